import type { Command } from 'commander';
import { loadConfig } from '../config/index.js';
import {
  OpsApiError,
  OpsClient,
  SEVERITY_WORDS,
  operatorName,
  type Alert,
  type EventPage,
} from '../ops/index.js';
import { cstClock } from '../shared/index.js';
import { EXIT, printError, shellArg } from './output.js';

interface Common {
  config: string;
  json?: boolean;
  operator?: string;
  /** Control commands only: the second person of two-person duty (双人复核). */
  checker?: string;
}

/**
 * Map a failure to the exit codes every nqgw command keeps (output.ts). A 403 (two-person duty
 * wants a checker) is a refusal like a wrong token: 3.
 */
function fail(err: unknown): number {
  printError(err);
  if (err instanceof OpsApiError)
    return err.status === 400 ? EXIT.BAD_INPUT : err.status >= 500 ? EXIT.INTERNAL : EXIT.REFUSED;
  return (err as { code?: string }).code === 'NQ601' ? EXIT.BAD_INPUT : EXIT.INTERNAL;
}

async function withClient(opts: Common, body: (client: OpsClient) => Promise<number>): Promise<void> {
  try {
    const client = OpsClient.fromConfig(
      loadConfig(opts.config),
      operatorName(opts.operator),
      opts.checker?.trim() || undefined,
    );
    process.exitCode = await body(client);
  } catch (err) {
    process.exitCode = fail(err);
  }
}

export function renderAlert(a: Alert): string {
  const since = `${cstClock(Date.parse(a.since))}${a.clearedAt ? ` - ${cstClock(Date.parse(a.clearedAt))}` : ''}`;
  return [
    `[${SEVERITY_WORDS[a.severity]}] ${a.code}${a.vendorCode ? ` (${a.vendorCode})` : ''}  ${a.title}  since ${since}${a.count > 1 ? ` x${a.count}` : ''}`,
    `    ${a.words}`,
    `    处理: ${a.action}`,
  ].join('\n');
}

function common(cmd: Command): Command {
  return cmd
    .requiredOption('--config <file>', 'tw.ini')
    .option('--json', 'machine-readable output')
    .option('--operator <name>', 'who is acting (default: the SSH session user)');
}

/**
 * `nqgw alerts|events|reconnect|switch|pause|resume|stop --config F`: the operator's commands
 * over SSH, through the ops API on the [management] address with the token file. Exit codes:
 * 0 done (alerts: none active), 1 alerts active, 2 bad input, 3 refused or gateway not running.
 */
export function registerOpsCommands(program: Command): void {
  common(program.command('alerts').description('active alerts and what to do (exit 1 when any is active)'))
    .option('--all', 'also the recent, cleared ones')
    .action((opts: Common & { all?: boolean }) =>
      withClient(opts, async (client) => {
        const res = await client.get<{ active: Alert[]; recent: Alert[] }>('/api/alerts');
        if (opts.json) process.stdout.write(`${JSON.stringify(res)}\n`);
        else {
          const out = res.active.length === 0 ? ['无告警 (no active alerts)'] : res.active.map(renderAlert);
          if (opts.all && res.recent.length > 0)
            out.push('', '最近解除 (recent):', ...res.recent.map(renderAlert));
          process.stdout.write(`${out.join('\n')}\n`);
        }
        return res.active.length === 0 ? EXIT.OK : EXIT.DEGRADED;
      }),
    );

  common(program.command('events').description('the time-stamped log, paged'))
    .option('--since <id>', 'lines after this id (the "next" of the previous page)')
    .option('--limit <n>', 'lines per page', '50')
    .action((opts: Common & { since?: string; limit: string }) =>
      withClient(opts, async (client) => {
        const q = new URLSearchParams({ limit: opts.limit, ...(opts.since ? { since: opts.since } : {}) });
        const page = await client.get<EventPage>(`/api/events?${q.toString()}`);
        if (opts.json) process.stdout.write(`${JSON.stringify(page)}\n`);
        else {
          for (const l of page.lines) {
            process.stdout.write(
              `${String(l.id).padStart(6)} ${cstClock(l.time)} ${l.level.padEnd(5)}${l.code ? ` [${l.code}]` : ''} ${l.text}\n`,
            );
          }
          // A whole command the operator can paste (the same tw.ini, the same page size).
          process.stdout.write(
            `-- next: nqgw events --config ${shellArg(opts.config)} --since ${page.next} --limit ${opts.limit}\n`,
          );
        }
        return EXIT.OK;
      }),
    );

  const control = (
    name: string,
    description: string,
    body: (args: string[]) => unknown = () => ({}),
  ): void => {
    const cmd = program.command(name).description(description);
    if (name === 'switch') cmd.argument('<n>', 'server number as in tw.ini (server1 = 1)');
    common(cmd)
      .option('--checker <name>', 'second person who checked the action (双人复核; tw.ini require_checker)')
      .action((...args: unknown[]) => {
        const opts = args.find((a) => typeof a === 'object' && a !== null && 'config' in a) as Common;
        const positional = args.filter((a): a is string => typeof a === 'string');
        return withClient(opts, async (client) => {
          const res = await client.post<{
            detail?: string;
            operator: string;
            checker?: string;
            time: string;
          }>(`/api/control/${name}`, body(positional));
          if (opts.json) process.stdout.write(`${JSON.stringify(res)}\n`);
          else
            process.stdout.write(
              `${name}: ok - ${res.detail ?? ''} (audited as ${res.operator}${res.checker ? `, checked by ${res.checker}` : ''} at ${res.time})\n`,
            );
          return EXIT.OK;
        });
      });
  };
  control('reconnect', 'drop the link and connect again to the same server');
  control('switch', 'connect to server N of tw.ini now', ([n]) => ({ server: Number(n) }));
  control('pause', 'hold sending: new orders wait in NQWT.DBF');
  control('resume', 'release the operator hold');
  control('stop', 'stop the gateway gracefully (as SIGTERM)');
}
