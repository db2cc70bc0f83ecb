/**
 * The checks before a gateway is started as the active one. Each returns a StepOutcome; none
 * changes anything the broker or the main station would see: the interface directories get a
 * probe file that is removed at once, NQHB.DBF is only read, the main station gets a TLS handshake
 * and no logon (it allows one session per station, and a logon from here would take the slot).
 */
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  openSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import path from 'node:path';
import {
  ekeyStatus,
  helperTlsConnector,
  softModeAllowedToday,
  softSettingsFromConfig,
} from '../ekey/index.js';
import { cstIsoDate, loadTradingCalendar } from '../calendar/index.js';
import type { TwConfig } from '../config/index.js';
import { readReturnFile } from '../dbf/index.js';
import {
  credentialsFor,
  leaseAgeMs,
  LEASE_STALE_MS,
  lockHostname,
  OrderFileLock,
  type LockOwner,
} from '../gateway/index.js';
import { tlsConnector } from '../link/index.js';
import { classifyOffset, clockSettingsFromConfig, formatMs, measureServers } from '../clock/index.js';
import { cstDate, type Clock } from '../shared/index.js';
import type { StepOutcome } from './report.js';
import { checkShareMount } from './share-check.js';

/** Write and remove a probe file in `dir`: the only honest test of "writable" (root ignores modes). */
function probeDir(dir: string): string | null {
  const probe = path.join(dir, `.nqgw-cutover-probe-${process.pid}`);
  try {
    const fd = openSync(probe, 'wx', 0o600);
    try {
      writeSync(fd, 'probe');
    } finally {
      closeSync(fd);
    }
    unlinkSync(probe);
    return null;
  } catch (err) {
    return `${dir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
  }
}

/** NQWT/NQHB directories (and the state directory) reachable and writable; NQWT.DBF readable. */
export function checkDirectories(config: TwConfig): StepOutcome {
  const shareRefusal = checkShareMount(config); // the DBF files meant on the counter's share: mounted?
  if (shareRefusal !== null) return shareRefusal;
  const { orders, returns, stateDir } = config.files;
  const dirs = [
    ...new Set([
      path.dirname(orders),
      path.dirname(returns),
      existsSync(stateDir) ? stateDir : path.dirname(stateDir),
    ]),
  ];
  const problems = dirs.map(probeDir).filter((p): p is string => p !== null);
  if (problems.length > 0) {
    return {
      verdict: 'FAIL',
      detail: `cannot write in ${problems.join('; ')}`,
      hint: 'mount the interface share read-write for the service user (nqgw), or correct [files] in tw.ini',
    };
  }
  if (!existsSync(orders)) {
    return {
      verdict: 'WARN',
      detail: `${dirs.join(', ')} writable; ${orders} does not exist yet`,
      hint: "the broker's counter program creates NQWT.DBF; check that it points at this directory",
    };
  }
  try {
    accessSync(orders, constants.R_OK | constants.W_OK);
  } catch (err) {
    return {
      verdict: 'FAIL',
      detail: `${orders}: ${(err as NodeJS.ErrnoException).code ?? 'not accessible'}`,
      hint: 'the gateway reads NQWT.DBF and writes CLBZ into it: give the service user read and write access',
    };
  }
  return { verdict: 'OK', detail: `${dirs.join(', ')} writable; NQWT.DBF readable and writable` };
}

/**
 * The gateway refuses a return file that holds another day's rows (the vendor's NQ202 at start-up).
 * Found here by reading it, never by opening it for writing.
 */
export async function checkReturnsToday(config: TwConfig, clock: Clock): Promise<StepOutcome> {
  const file = config.files.returns;
  const today = cstDate(clock.now());
  if (!existsSync(file))
    return { verdict: 'OK', detail: `${file} absent: the gateway creates it for ${today}` };
  const rows = await readReturnFile(file);
  const other = rows.find((r) => r.HBRQ !== today);
  if (other === undefined) {
    return { verdict: 'OK', detail: `${file}: ${rows.length} row(s), all of ${today}` };
  }
  if (config.options.archiveOldReturns) {
    return {
      verdict: 'WARN',
      detail: `${file} holds rows of ${other.HBRQ}; archive_old_returns is on, the gateway moves it aside as NQHB.${other.HBRQ}.DBF`,
      hint: 'make sure the broker has taken the previous day returns',
    };
  }
  return {
    verdict: 'FAIL',
    detail: `${file} holds rows of ${other.HBRQ}, today is ${today}: the gateway would refuse to start (NQ202)`,
    hint: `move ${file} aside (e.g. to NQHB.${other.HBRQ}.DBF) after the broker has taken it, or set archive_old_returns = true`,
  };
}

/**
 * The station's TLS identity: the EKey present with this station's certificate, or a soft window
 * open and confirmed for today, or the PEM files readable.
 */
export function checkTls(config: TwConfig, now: number = Date.now()): StepOutcome {
  const { tls } = config;
  if (tls.mode === 'ekey') {
    const s = ekeyStatus(config);
    if (s.error || !s.tokenFound || !s.certificate?.ok) {
      return {
        verdict: 'FAIL',
        detail: s.error
          ? `[${s.error.code}] ${s.error.message}`
          : !s.tokenFound
            ? 'the EKey token is not present'
            : `certificate: ${s.certificate?.problem ?? 'unreadable'}`,
        hint:
          s.error?.hint ??
          'plug the EKey in (or attach it over USB/IP), check `nqgw ekey status`, or use the spare EKey',
      };
    }
    return {
      verdict: 'OK',
      detail: `EKey present, certificate ${s.certificate.subject} valid until ${s.certificate.notAfter}`,
    };
  }
  if (tls.mode === 'soft') {
    const today = softModeAllowedToday(config, now);
    if (!today.ok) {
      return {
        verdict: 'FAIL',
        detail: `[${today.error.code}] ${today.error.message}`,
        hint: today.error.hint ?? 'see `nqgw softkey status` and docs/ekey.md',
      };
    }
    return { verdict: today.alarm ? 'WARN' : 'OK', detail: today.alarm ?? today.message };
  }
  const missing: string[] = [];
  for (const [what, file] of [
    ['ca', tls.ca],
    ['cert', tls.cert],
    ['key', tls.key],
  ] as const) {
    try {
      accessSync(file, constants.R_OK);
      if (!statSync(file).isFile()) missing.push(`${what} ${file} is not a file`);
    } catch (err) {
      missing.push(`${what} ${file || '(not set)'}: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}`);
    }
  }
  if (missing.length > 0) {
    return {
      verdict: 'FAIL',
      detail: missing.join('; '),
      hint: 'put the station certificate, key and the main station CA where [tls] says, readable by the service user',
    };
  }
  return { verdict: 'OK', detail: `mode=file, cert ${tls.cert}, key ${tls.key}, ca ${tls.ca}` };
}

/** One NTP measurement when tw.ini has [clock]; alarm is a FAIL (the order path would be held). */
export async function checkClock(config: TwConfig): Promise<StepOutcome> {
  if (config.extra['clock'] === undefined) {
    return { verdict: 'SKIP', detail: 'no [clock] section in tw.ini: the drift watchdog is off' };
  }
  const settings = clockSettingsFromConfig(config);
  const m = await measureServers(settings.servers, {
    timeoutMs: settings.timeoutMs,
    samples: settings.samples,
  });
  const state = classifyOffset(m.offsetMs, settings);
  const figure =
    m.offsetMs === null
      ? 'no server answered'
      : `offset ${formatMs(m.offsetMs)} (${m.answered}/${m.servers.length} servers)`;
  if (state === 'alarm') {
    return {
      verdict: 'FAIL',
      detail: `clock in alarm: ${figure}, limit ${settings.alarmMs} ms`,
      hint: 'fix time first: chronyc tracking / chronyc sources; the cloud time service must keep within 100 ms',
    };
  }
  if (state === 'ok') return { verdict: 'OK', detail: figure };
  return {
    verdict: 'WARN',
    detail: `clock ${state}: ${figure}`,
    hint: 'check chronyc sources and the [clock] servers; the watchdog keeps measuring after start',
  };
}

/**
 * A TLS handshake with the station's credentials, server by server; no logon. The same path as
 * the gateway's: with the EKey through the TLS helper process, in soft mode only inside today's
 * confirmed window (the soft credentials refuse otherwise).
 */
export async function checkMainStation(config: TwConfig): Promise<StepOutcome> {
  const credentials = credentialsFor(config, { now: () => Date.now() });
  const { serverName } = config.tls;
  const timeoutMs = config.link.connectTimeoutMs;
  const connect =
    config.tls.mode === 'ekey'
      ? helperTlsConnector(credentials, serverName, timeoutMs)
      : tlsConnector(credentials, serverName, timeoutMs);
  const failures: string[] = [];
  for (const server of config.servers) {
    const label = `${server.name} ${server.host}:${server.port}`;
    try {
      const conn = await connect(server, AbortSignal.timeout(timeoutMs + 1000));
      conn.destroy();
      const before = failures.length > 0 ? ` (not reachable: ${failures.join('; ')})` : '';
      return { verdict: 'OK', detail: `TLS handshake with ${label} (no logon)${before}` };
    } catch (err) {
      failures.push(`${label}: ${(err as Error).message}`);
    }
  }
  return {
    verdict: 'FAIL',
    detail: `no main-station server answered: ${failures.join('; ')}`,
    hint: 'check the link (ping/traceroute through the 专线), nftables egress, and that the certificate matches the CA',
  };
}

/** How a cutover treats the lock beside NQWT.DBF (the preflight's "no other active gateway"). */
export interface LockCheckOptions {
  /** `--take-over-from HOST`: judged by checkTakeOver (takeover.ts) instead. */
  takeOverFrom?: string;
  /** `--preflight-only` on a standby: a holder is expected (the active), reported as a WARN. */
  preflightOnly?: boolean;
}

function leaseWords(ageMs: number | null, holder: LockOwner): string {
  if (holder.leaseMs === undefined) return 'it keeps no lease (an older gateway)';
  if (ageMs === null) return 'lease unknown';
  const age = `${(Math.max(0, ageMs) / 1000).toFixed(1)} s`;
  return ageMs < LEASE_STALE_MS
    ? `lease refreshed ${age} ago: it is running`
    : `lease last refreshed ${age} ago: it has stopped, or its host is down`;
}

/** A second active gateway must not start: the lock beside NQWT.DBF names the holder. */
export function checkNoActive(config: TwConfig, options: LockCheckOptions = {}): StepOutcome {
  const lockFile = `${config.files.orders}.lock`;
  const holder = OrderFileLock.holder(config.files.orders);
  const seen = options.preflightOnly === true ? 'WARN' : 'FAIL';
  if (holder === null) {
    return existsSync(lockFile)
      ? {
          verdict: seen,
          detail: `${lockFile} exists but cannot be read`,
          hint: 'find out which gateway wrote it; delete it only when no gateway serves this order file',
        }
      : { verdict: 'OK', detail: 'no gateway holds the order file lock' };
  }
  if (holder.host !== lockHostname()) {
    const ageMs = leaseAgeMs(lockFile);
    const stale = holder.leaseMs !== undefined && ageMs !== null && ageMs >= LEASE_STALE_MS;
    return {
      verdict: seen,
      detail: `a gateway on host ${holder.host} (pid ${holder.pid}, since ${holder.since}) holds ${lockFile}; ${leaseWords(ageMs, holder)}`,
      hint:
        holder.leaseMs === undefined
          ? `make sure the gateway on ${holder.host} is stopped (or that host is down), then delete ${lockFile}`
          : stale
            ? `if ${holder.host} is down: nqgw cutover --take-over-from ${holder.host} --operator NAME --approver NAME`
            : `make sure the gateway on ${holder.host} is stopped (or that host is down); then nqgw cutover --take-over-from ${holder.host}`,
    };
  }
  // The lock's own judgement (pid, its start time and the boot id), so that a pid reused by
  // another process reads as stale here exactly as it does to the gateway taking the lock over.
  if (OrderFileLock.holderRunning(holder)) {
    return {
      verdict: seen,
      detail: `a gateway is already active on this host: pid ${holder.pid} since ${holder.since}`,
      hint: 'refusing to start a second active; nqgw status shows it. Stop it first if a restart is what you want',
    };
  }
  return {
    verdict: 'OK',
    detail: `stale lock of pid ${holder.pid} on this host (that process is gone): the gateway takes it over`,
  };
}

/**
 * A drill logs on as the real station (seed 002 §4.4: drills on non-trading days). On the
 * exchange calendar (shipped years, or the operator's files in the soft calendar_dir): a
 * non-trading day is OK; a trading day, or a year without data, is refused unless `--force`
 * (an evening drill after the close is legitimate; the force is recorded in the audit log).
 */
export function checkDrillDay(config: TwConfig, clock: Clock, force = false): StepOutcome {
  const today = cstIsoDate(clock.now());
  const forced = 'drill forced (--force), recorded in the audit log';
  try {
    const calendar = loadTradingCalendar({ operatorDir: softSettingsFromConfig(config).calendarDir });
    const day = calendar.describeDay(today);
    if (day.kind !== 'trading') {
      const why = day.kind === 'holiday' ? `holiday ${day.name ?? ''}`.trim() : day.kind;
      return { verdict: 'OK', detail: `today ${today} is not a trading day (${why})` };
    }
    if (force) {
      return {
        verdict: 'WARN',
        detail: `today ${today} is a trading day: ${forced}`,
        hint: "the drill takes the station's one session at the main station: run it only while production is not logged on",
      };
    }
    return {
      verdict: 'FAIL',
      detail: `today ${today} is a trading day: drills are for non-trading days`,
      hint: 'after the close, with production logged off, --force runs it anyway (recorded in the audit log)',
    };
  } catch (err) {
    const unknown = `cannot tell whether ${today} trades: ${(err as Error).message}`;
    return {
      verdict: force ? 'WARN' : 'FAIL',
      detail: force ? `${unknown}; ${forced}` : unknown,
      hint: "add the year's closures as an operator calendar file (docs/ekey.md), or --force when you know today is not a trading day",
    };
  }
}
