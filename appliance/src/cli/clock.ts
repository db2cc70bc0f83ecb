import type { Command } from 'commander';
import { AppError } from '../shared/index.js';
import { loadConfig } from '../config/index.js';
import {
  classifyOffset,
  clockSettingsFromConfig,
  formatMs,
  measureServers,
  parseClockSettings,
  parseServer,
  readChronyTracking,
  type ChronyReaderOptions,
  type ClockSettings,
  type ClockState,
  type Measurement,
  type TimeServer,
} from '../clock/index.js';

/**
 * `nqgw clock check [--config F] [--server HOST[:PORT] ...] [--timeout MS] [--json]`: one
 * measurement against every time server, printed per server (offset, delay, error bound), then
 * the verdict.
 *
 * Exit codes (process.exitCode, never process.exit): 0 ok, 1 warn, 2 alarm, 3 unknown (no server
 * answered), 4 nothing measured because the configuration or the arguments are wrong. The verdict
 * codes are fixed by the issue; 4 keeps a typo from reading as 'alarm'.
 */

export const CLOCK_EXIT: Record<ClockState | 'badInput', number> = {
  ok: 0,
  warn: 1,
  alarm: 2,
  unknown: 3,
  badInput: 4,
};

export interface ClockCheckOptions {
  config?: string;
  server?: string[];
  timeout?: string;
  json?: boolean;
}

export interface ClockCliOutput {
  out(line: string): void;
  err(line: string): void;
}

export interface ClockCheckDeps {
  /** Where chronyc finds chronyd (tests). */
  chronyReader?: ChronyReaderOptions;
  now?: () => number;
}

const stdio: ClockCliOutput = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
};

export function registerClockCommands(program: Command): void {
  const clock = program
    .command('clock')
    .description('NTP drift watchdog: measure this host against the time servers');
  clock
    .command('check')
    .description(
      'one measurement: offset, delay and error bound per server, then the verdict (exit 0 ok, 1 warn, 2 alarm, 3 unknown)',
    )
    .option('--config <file>', 'tw.ini whose [clock] section gives servers and thresholds')
    .option(
      '--server <host[:port]>',
      'a time server (repeatable; replaces the servers of --config)',
      collect,
      [],
    )
    .option('--timeout <ms>', 'wait this long for each server (default: timeout_ms, 1000)')
    .option('--json', 'print the measurement as JSON')
    .action(async (opts: ClockCheckOptions) => {
      process.exitCode = await runClockCheck(opts);
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** The whole command; returns the exit code. */
export async function runClockCheck(
  opts: ClockCheckOptions,
  io: ClockCliOutput = stdio,
  deps: ClockCheckDeps = {},
): Promise<number> {
  let settings: ClockSettings;
  try {
    settings = resolveSettings(opts);
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    io.err(`[${err.code}] ${err.message}`);
    const problems = (err as { problems?: { file: string; line: number | null; message: string }[] })
      .problems;
    if (Array.isArray(problems)) {
      for (const p of problems) io.err(`  ${p.file}${p.line ? `:${p.line}` : ''} ${p.message}`);
    }
    if (err.hint) io.err(`  -> ${err.hint}`);
    return CLOCK_EXIT.badInput;
  }

  const measurement = await measureServers(settings.servers, {
    timeoutMs: settings.timeoutMs,
    samples: settings.samples,
    now: deps.now,
    chrony:
      settings.chrony === 'auto'
        ? { read: () => readChronyTracking(deps.chronyReader), disagreeMs: settings.chronyDisagreeMs }
        : undefined,
  });
  const verdict = classifyOffset(measurement.offsetMs, settings);
  if (opts.json) {
    io.out(JSON.stringify(toJson(measurement, verdict, settings), null, 2));
  } else {
    for (const line of formatReport(measurement, verdict, settings)) io.out(line);
  }
  return CLOCK_EXIT[verdict];
}

function resolveSettings(opts: ClockCheckOptions): ClockSettings {
  const fromArgs = (opts.server ?? []).flatMap((s) => s.split(',')).filter((s) => s.trim() !== '');
  const base =
    opts.config !== undefined
      ? clockSettingsFromConfig(loadConfig(opts.config), { requireServers: fromArgs.length === 0 })
      : parseClockSettings(undefined, { requireServers: false });
  const settings: ClockSettings = { ...base };
  if (fromArgs.length > 0) settings.servers = fromArgs.map(serverArg);
  if (opts.timeout !== undefined) {
    if (!/^\d+$/.test(opts.timeout) || Number(opts.timeout) < 1 || Number(opts.timeout) > 60_000) {
      throw new AppError('CLOCK_USAGE', `--timeout: expected 1 to 60000 (ms), got '${opts.timeout}'`);
    }
    settings.timeoutMs = Number(opts.timeout);
  }
  if (settings.servers.length === 0) {
    throw new AppError(
      'CLOCK_USAGE',
      'no time server to ask',
      'give --server HOST[:PORT], or --config with a [clock] servers key',
    );
  }
  return settings;
}

function serverArg(text: string): TimeServer {
  const parsed = parseServer(text);
  if (typeof parsed === 'string') throw new AppError('CLOCK_USAGE', `--server: ${parsed}`);
  return parsed;
}

/** The human report: a table of servers, chrony's opinion, the verdict. */
export function formatReport(m: Measurement, verdict: ClockState, settings: ClockSettings): string[] {
  const width = Math.max(11, ...m.servers.map((s) => s.server.length));
  const lines = [
    `${'time server'.padEnd(width)}  ${'offset'.padStart(13)}  ${'delay'.padStart(11)}  ${'error bound'.padStart(11)}  stratum  refid`,
  ];
  for (const r of m.servers) {
    if (r.ok) {
      const s = r.sample;
      lines.push(
        `${r.server.padEnd(width)}  ${formatMs(s.offsetMs).padStart(13)}  ${formatMs(s.delayMs, false).padStart(11)}  ` +
          `${formatMs(s.errorBoundMs, false).padStart(11)}  ${String(s.stratum).padStart(7)}  ${s.refId}`,
      );
    } else {
      lines.push(`${r.server.padEnd(width)}  ${r.error.code}: ${r.error.message}`);
    }
  }
  if (m.chrony) {
    const c = m.chrony;
    const extra =
      c.reading.status === 'ok'
        ? ` (system time ${formatMs(c.reading.tracking.systemTimeMs)}, stratum ${c.reading.tracking.stratum}, ${c.reading.tracking.leapStatus})`
        : '';
    lines.push(`chrony: ${c.note}${extra}`);
  }
  const limits = `warn at ${settings.warnMs} ms, alarm at ${settings.alarmMs} ms`;
  if (m.offsetMs === null) {
    lines.push(`verdict: UNKNOWN  no time server answered (${limits})`);
  } else {
    lines.push(
      `verdict: ${verdict.toUpperCase()}  offset ${formatMs(m.offsetMs)} ± ${formatMs(m.errorBoundMs ?? 0, false)}` +
        ` from ${m.answered} of ${m.servers.length} server${m.servers.length === 1 ? '' : 's'} (${limits})`,
    );
  }
  return lines;
}

function toJson(m: Measurement, verdict: ClockState, settings: ClockSettings): Record<string, unknown> {
  return {
    verdict,
    exitCode: CLOCK_EXIT[verdict],
    warnMs: settings.warnMs,
    alarmMs: settings.alarmMs,
    ...m,
  };
}
