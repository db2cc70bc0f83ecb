import type { Replica } from './inventory.js';
import { runOnReplica, writeSshConfig, type SshOptions, type SshResult } from './ssh.js';

/** What a replica's gateway says of itself (`nqgw status --json`), as far as the fleet shows it. */
export interface GatewayView {
  running: boolean;
  station: string | null;
  linkState: string | null;
  server: string | null;
  clock: { state: string; offsetMs: number | null } | null;
  /** Active alerts as the live API says them; null when only the last snapshot answered. */
  alerts: { code: string; severity: string }[] | null;
  updatedAt: string | null;
}

export interface ReplicaReport extends Replica {
  reachable: boolean;
  /** Why the replica could not be read (ssh's own words, or the remote nqgw's). */
  error?: string;
  version?: string;
  configHash?: string;
  configSections?: Record<string, string>;
  configFileSha256?: string;
  configStation?: string;
  gateway?: GatewayView;
}

export interface ProbeOptions extends SshOptions {
  /** The command that runs nqgw on a replica (default `nqgw`; e.g. `sudo -n -u nqgw nqgw`). */
  remoteNqgw?: string;
  /** tw.ini on the replicas (default: theirs, $NQGW_CONFIG or /etc/nqgw/tw.ini). */
  remoteConfig?: string;
}

const shq = (t: string): string => (/^[\w@%+=:,./-]+$/.test(t) ? t : `'${t.replace(/'/g, `'\\''`)}'`);

/** One SSH session per replica runs both commands: `version --json` then `status --json`. */
export function remoteCommand(o: ProbeOptions): string {
  const nqgw = o.remoteNqgw ?? 'nqgw';
  const config = o.remoteConfig ? ` --config ${shq(o.remoteConfig)}` : '';
  return `${nqgw} version --json${config}; ${nqgw} status --json${config}`;
}

/** Every replica at once (a handful): the table is as old as the slowest answer, not their sum. */
export async function probeFleet(replicas: Replica[], o: ProbeOptions): Promise<ReplicaReport[]> {
  const cfg = writeSshConfig(o);
  try {
    const command = remoteCommand(o);
    return await Promise.all(
      replicas.map(async (r) => readAnswer(r, await runOnReplica(r, command, o, cfg.file))),
    );
  } finally {
    cfg.remove();
  }
}

function jsonLines(text: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t.startsWith('{')) continue;
    try {
      out.push(JSON.parse(t) as Record<string, unknown>);
    } catch {
      // not ours (a login banner, a shell message)
    }
  }
  return out;
}

/** The remote side's answer, read defensively: another version of nqgw may have other fields. */
export function readAnswer(r: Replica, res: SshResult): ReplicaReport {
  const docs = jsonLines(res.stdout);
  const version = docs.find((d) => typeof d['software'] === 'string');
  const status = docs.find((d) => 'running' in d);
  const stderr = res.stderr
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter(Boolean)
    .slice(-2)
    .join(' / ');
  if (!version && !status) {
    return { ...r, reachable: false, error: stderr || `ssh exit ${res.code ?? 'killed'}, no answer` };
  }
  const report: ReplicaReport = { ...r, reachable: true };
  if (version) {
    report.version = String(version['software']);
    if (typeof version['configHash'] === 'string') report.configHash = version['configHash'];
    if (version['configSections'] && typeof version['configSections'] === 'object')
      report.configSections = version['configSections'] as Record<string, string>;
    if (typeof version['configFileSha256'] === 'string')
      report.configFileSha256 = version['configFileSha256'];
    if (typeof version['station'] === 'string') report.configStation = version['station'];
  } else report.error = `nqgw version failed: ${stderr || 'no answer'}`;
  if (status) report.gateway = gatewayView(status);
  return report;
}

function gatewayView(s: Record<string, unknown>): GatewayView {
  const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
  const clock = s['clock'] as { state?: unknown; offsetMs?: unknown } | null | undefined;
  const alerts = Array.isArray(s['alerts']) ? (s['alerts'] as Record<string, unknown>[]) : null;
  return {
    running: s['running'] === true,
    station: str(s['station']),
    linkState: str(s['linkState']),
    server: str(s['server']),
    clock:
      clock && typeof clock.state === 'string'
        ? { state: clock.state, offsetMs: typeof clock.offsetMs === 'number' ? clock.offsetMs : null }
        : null,
    alerts: alerts?.map((a) => ({ code: String(a['code']), severity: String(a['severity']) })) ?? null,
    updatedAt: str(s['updatedAt']),
  };
}
