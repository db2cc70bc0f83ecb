import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  baselineFrom,
  checkSshOptions,
  configIdentity,
  FleetError,
  findDifferences,
  probeFleet,
  readInventory,
  type Baseline,
  type Finding,
  type ProbeOptions,
  type ReplicaReport,
} from '../fleet/index.js';
import { software } from '../shared/index.js';
import { EXIT } from './output.js';
import { configOption, loadCliConfig, positiveNumber } from './usage.js';
import { displayWidth, padColumns } from './width.js';

interface FleetOpts {
  inventory: string;
  bastion: string;
  knownHosts: string;
  user?: string;
  identity?: string;
  remoteNqgw?: string;
  remoteConfig?: string;
  timeout?: number;
  json?: boolean;
  baseline?: string;
}

/** The fleet as one table: one row a replica, the columns the DR practice asks to compare. */
export function renderFleet(reports: ReplicaReport[], findings: Finding[]): string {
  const head = [
    '副本 replica',
    '角色 role',
    '版本 version',
    '配置 config',
    '网关 gateway',
    '时钟 clock',
    '告警 alerts',
  ];
  const rows = reports.map((r) => {
    const g = r.gateway;
    const gateway = !r.reachable
      ? '不可达 unreachable'
      : !g
        ? '-'
        : `${g.running ? '运行中' : '未运行'}${g.linkState ? ` ${g.linkState}` : ''}`;
    const clock = g?.clock
      ? `${g.clock.state}${g.clock.offsetMs === null ? '' : ` ${g.clock.offsetMs.toFixed(1)} ms`}`
      : '-';
    const alerts = !g?.alerts ? '-' : g.alerts.length > 0 ? g.alerts.map((a) => a.code).join(',') : '无';
    return [
      `${r.name} ${r.host}${r.port === 22 ? '' : `:${r.port}`}`,
      r.role,
      r.version ?? '-',
      r.configHash ? r.configHash.slice(0, 12) : '-',
      gateway,
      clock,
      alerts,
    ];
  });
  const widths = head.map(
    (h, i) => Math.max(displayWidth(h), ...rows.map((row) => displayWidth(row[i]!))) + 2,
  );
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : padColumns(c, widths[i]!)))
      .join('')
      .trimEnd();
  const out = [line(head), ...rows.map(line), ''];
  if (findings.length === 0) out.push('一致 (no differences)');
  else out.push(`差异 ${findings.length} (differences):`, ...findings.map((f) => `  [${f.code}] ${f.text}`));
  return `${out.join('\n')}\n`;
}

function fleetOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--inventory <file>', 'the JSON of `terraform output -json` (replica_ips, replica_roles)')
    .requiredOption(
      '--bastion <[user@]host[:port]>',
      'the bastion (堡垒机) every SSH goes through (ProxyJump)',
    )
    .requiredOption(
      '--known-hosts <file>',
      'known_hosts with the bastion and replica host keys (strict checking)',
    )
    .option('--user <name>', "login name on the replicas (default: ssh's)")
    .option('--identity <file>', 'private key for the bastion and the replicas (default: ssh-agent)')
    .option('--remote-nqgw <command>', 'how to run nqgw on a replica, e.g. "sudo -n -u nqgw nqgw"', 'nqgw')
    .option(
      '--remote-config <file>',
      'tw.ini on the replicas (default: theirs, $NQGW_CONFIG or /etc/nqgw/tw.ini)',
    )
    .option('--timeout <s>', 'seconds for each replica to answer', positiveNumber, 30)
    .option('--json', 'machine-readable output (save it as the record for --baseline)');
}

async function takeFleet(opts: FleetOpts): Promise<ReplicaReport[]> {
  const replicas = readInventory(opts.inventory);
  const timeoutS = opts.timeout ?? 30;
  const probe: ProbeOptions = {
    bastion: opts.bastion,
    knownHosts: opts.knownHosts,
    timeoutS,
    ...(opts.user ? { user: opts.user } : {}),
    ...(opts.identity ? { identity: opts.identity } : {}),
    ...(opts.remoteNqgw ? { remoteNqgw: opts.remoteNqgw } : {}),
    ...(opts.remoteConfig ? { remoteConfig: opts.remoteConfig } : {}),
  };
  checkSshOptions(probe);
  return probeFleet(replicas, probe);
}

function readBaseline(file: string | undefined): Baseline {
  if (!file) return {};
  try {
    return baselineFrom(JSON.parse(readFileSync(file, 'utf8')));
  } catch (err) {
    throw new FleetError(
      'NQ660',
      `--baseline ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      'Give a saved `nqgw fleet status --json` (the last reconciliation) or {"version": ..., "configHash": ...}.',
    );
  }
}

function print(reports: ReplicaReport[], findings: Finding[], json: boolean | undefined): void {
  if (json)
    process.stdout.write(
      `${JSON.stringify({ takenAt: new Date().toISOString(), replicas: reports, findings })}\n`,
    );
  else process.stdout.write(renderFleet(reports, findings));
}

/**
 * `nqgw version [--json]`: this build and the configuration's identity (what `fleet` compares),
 * and `nqgw fleet status|check`: every replica through the bastion (docs/ops.md "The fleet").
 * Failures (a missing inventory, bad options) reach main.ts's one handler: exit 2.
 */
export function registerFleetCommands(program: Command): void {
  configOption(
    program.command('version').description('this nqgw and the identity of its tw.ini (config hash)'),
  )
    .option('--json', 'machine-readable output')
    .action((opts: { config?: string; json?: boolean }) => {
      const config = loadCliConfig(opts.config);
      const id = configIdentity(config);
      const doc = {
        software: software().text,
        node: process.version,
        configFile: config.source,
        station: config.station.id,
        configHash: id.hash,
        configSections: id.sections,
        configFileSha256: id.fileSha256,
      };
      if (opts.json) process.stdout.write(`${JSON.stringify(doc)}\n`);
      else {
        const sections = Object.entries(id.sections).map(([k, v]) => `  [${k}] ${v}`);
        process.stdout.write(
          `${doc.software} (node ${process.version})\n${config.source}: station ${doc.station}\nconfig hash ${id.hash}\n${sections.join('\n')}\n`,
        );
      }
    });

  const fleet = program
    .command('fleet')
    .description('every replica through the bastion: version, config, role, gateway, clock, alerts');
  fleetOptions(
    fleet.command('status').description('one table of the replicas (exit 0; 1 if one is unreachable)'),
  ).action(async (opts: FleetOpts) => {
    const reports = await takeFleet(opts);
    print(reports, findDifferences(reports), opts.json);
    process.exitCode = reports.every((r) => r.reachable) ? EXIT.OK : EXIT.DEGRADED;
  });
  fleetOptions(
    fleet
      .command('check')
      .description('the weekly/monthly reconciliation: exit 1 when versions or configuration differ'),
  )
    .option(
      '--baseline <file>',
      'the last reconciliation (a saved fleet status --json): also differences from it',
    )
    .action(async (opts: FleetOpts) => {
      const baseline = readBaseline(opts.baseline);
      const reports = await takeFleet(opts);
      const findings = findDifferences(reports, baseline);
      print(reports, findings, opts.json);
      process.exitCode = findings.length === 0 ? EXIT.OK : EXIT.DEGRADED;
    });
}
