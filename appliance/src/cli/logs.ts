import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  followSegments,
  ObjectStore,
  parseLogSettings,
  shipStatusPath,
  tailWithCursor,
  uploadArchive,
  type ShipMetrics,
} from '../logs/index.js';
import { cstClock } from '../shared/index.js';
import { EXIT, printError } from './output.js';
import { loadCliConfig, UsageError, USAGE_CODES, wholeNumber, yyyymmdd } from './usage.js';

function formatLine(raw: string): string {
  try {
    const o = JSON.parse(raw) as { t: string; level: string; code?: string; text: string };
    const tag = o.code ? ` [${o.code}]` : '';
    return `${cstClock(Date.parse(o.t))} ${o.level.padEnd(5)}${tag} ${o.text}`;
  } catch {
    return raw;
  }
}

/** The last n lines of the local structured log, oldest first. */
export function lastLines(dir: string, n: number): string[] {
  return tailWithCursor(dir, n).lines;
}

/**
 * `logs tail --follow`: the last n lines, then every line appended (across segment rolls, by
 * sequence) until SIGINT or SIGTERM, or until stdout's reader goes away (EPIPE); exit 0.
 */
async function follow(dir: string, n: number, print: (line: string) => void): Promise<void> {
  // The handlers go in before the first line is printed: a reader that stops us as soon as it
  // sees output (a script, a test on a busy host) must not meet the default SIGINT action.
  let follower: { stop(): void } | null = null;
  let stopped = false;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    done = resolve;
  });
  const stop = (): void => {
    stopped = true;
    follower?.stop();
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    process.stdout.off('error', stop);
    done();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
  process.stdout.on('error', stop);
  const { lines, cursor } = tailWithCursor(dir, n);
  for (const line of lines) print(line);
  if (!stopped) follower = followSegments(dir, cursor, print);
  await finished;
}

/** `nqgw logs tail|ship-status` and `nqgw archive`. */
export function registerLogsCommands(program: Command): void {
  const logs = program.command('logs').description('structured logs and their shipping to object storage');
  logs
    .command('tail')
    .description('print the last lines of the local structured log')
    .requiredOption('--config <file>', 'tw.ini')
    .option('-n, --lines <n>', 'number of lines', wholeNumber(0), 50)
    .option('--json', 'print the JSON lines as stored')
    .option('-f, --follow', 'then keep printing new lines (polled every 250 ms) until SIGINT/SIGTERM')
    .action(async (opts: { config: string; lines: number; json?: boolean; follow?: boolean }) => {
      // Failures go to main.ts's one handler (exit 2 for a wrong call or tw.ini).
      const settings = parseLogSettings(loadCliConfig(opts.config));
      const print = (line: string): void => {
        process.stdout.write(`${opts.json ? line : formatLine(line)}\n`);
      };
      if (opts.follow) await follow(settings.dir, opts.lines, print);
      else for (const line of lastLines(settings.dir, opts.lines)) print(line);
    });
  logs
    .command('ship-status')
    .description('spool and shipping state (exit 0 ok, 1 spool alarm or failures pending, 3 no status)')
    .requiredOption('--config <file>', 'tw.ini')
    .option('--json', 'print as JSON')
    .action((opts: { config: string; json?: boolean }) => {
      try {
        const settings = parseLogSettings(loadCliConfig(opts.config));
        const file = shipStatusPath(settings.dir);
        if (!settings.store) process.stdout.write('shipping is off ([logs] has no endpoint/bucket)\n');
        if (!existsSync(file)) {
          process.stdout.write('no shipping status (the gateway has not run with shipping on)\n');
          process.exitCode = EXIT.REFUSED;
          return;
        }
        const s = JSON.parse(readFileSync(file, 'utf8')) as ShipMetrics & { at: number };
        if (opts.json) process.stdout.write(`${JSON.stringify(s, null, 2)}\n`);
        else {
          const age =
            s.oldestUnshippedAgeMs === null ? '-' : `${(s.oldestUnshippedAgeMs / 1000).toFixed(1)} s`;
          process.stdout.write(
            [
              `as of:            ${new Date(s.at).toISOString()}`,
              `spool:            ${s.spoolBytes} / ${s.spoolMaxBytes} bytes, ${s.spoolSegments} segments (${s.heldSegments} held)`,
              `alarm:            ${s.alarm}`,
              `oldest unshipped: ${age}`,
              `objects shipped:  ${s.objectsShipped} (${s.replaysSkipped} already there)`,
              `failures:         ${s.failures}${s.lastError ? ` (last: ${s.lastError})` : ''}`,
              `lines dropped:    ${s.linesDropped}`,
            ].join('\n') + '\n',
          );
        }
        process.exitCode = s.alarm !== 'ok' || s.linesDropped > 0 ? EXIT.DEGRADED : EXIT.OK;
      } catch (err) {
        printError(err);
        process.exitCode = EXIT.BAD_INPUT;
      }
    });

  program
    .command('archive')
    .description(
      "upload the day's set (NQWT.DBF, NQHB.DBF, journal, logs) with a manifest of sha256 checksums",
    )
    .requiredOption('--config <file>', 'tw.ini')
    .option('--date <yyyymmdd>', 'the day whose logs go in the set (default: today, CST)', yyyymmdd)
    .option('--json', 'print the manifest as JSON')
    .action(async (opts: { config: string; date?: string; json?: boolean }) => {
      let store: ObjectStore | null = null;
      try {
        const config = loadCliConfig(opts.config);
        const settings = parseLogSettings(config);
        if (!settings.store)
          throw new UsageError(
            USAGE_CODES.NOT_CONFIGURED,
            `nowhere to archive to: [logs] in ${config.source} has no endpoint and bucket (object storage)`,
            'add endpoint = URL and bucket = NAME under [logs] (docs/logs.md), then nqgw config check',
          );
        store = new ObjectStore(settings.store);
        const res = await uploadArchive(config, settings, store, opts.date ? { date: opts.date } : {});
        if (opts.json)
          process.stdout.write(
            `${JSON.stringify({ manifestKey: res.manifestKey, ...res.manifest }, null, 2)}\n`,
          );
        else {
          for (const f of res.manifest.files) process.stdout.write(`${f.sha256}  ${f.bytes}  ${f.name}\n`);
          process.stdout.write(`manifest: ${res.manifestKey}\n`);
        }
      } catch (err) {
        printError(err);
        process.exitCode = EXIT.BAD_INPUT;
      } finally {
        store?.destroy();
      }
    });
}
