import type { LoggedLine } from './sources.js';
import { tally } from './sources.js';

/**
 * What the day's operator log lines say, by message code (the codes are stable: docs/ops.md,
 * shared/messages.ts). The logon line has no code of its own (link/session.ts words it as
 * `登录成功: server1 HOST:PORT, 交易日 ..., 股市状态 ...`), so it is read by its fixed words.
 */
export const LINE_GROUPS = {
  /** Link ends and errors: timeout, quit, disconnected, reconnecting, handshake, unanswered, frame, link errors. */
  link: [
    'NQ303',
    'NQ304',
    'NQ305',
    'NQ306',
    'NQ309',
    'NQ320',
    'NQ321',
    'NQ391',
    'NQ392',
    'NQ393',
    'NQ394',
    'NQ395',
    'NQ396',
    'NQ397',
  ],
  /** 主站错单通知 (the main station refused an order). */
  mainStationRejects: ['NQ411', 'NQ412', 'NQ413', 'NQ414', 'NQ415'],
  /** EKey: certificate, password, device error, not found, configuration, removed, spare advised, driver. */
  ekey: ['NQ101', 'NQ102', 'NQ121', 'NQ122', 'NQ123', 'NQ124', 'NQ125', 'NQ126', 'NQ127', 'NQ128', 'NQ129'],
  /** The NTP watchdog's state changes: warn (or unknown), alarm, back to ok. */
  clock: ['NQ450', 'NQ451', 'NQ452'],
  /** Log shipping: spool alarm levels, upload failures said and recovered, request timeouts. */
  shipping: ['NQ810', 'NQ811', 'NQ812', 'NQ813', 'NQ817', 'NQ818', 'NQ820', 'NQ822', 'NQ823'],
} as const;

const LOGON = /^登录成功: (.+?), 交易日 /;

export function countCodes(lines: LoggedLine[], codes: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of lines) if (l.code && codes.includes(l.code)) tally(out, l.code);
  return out;
}

/** Logons by server, the switches between servers, and link events by code. */
export function linkFromLines(lines: LoggedLine[]): {
  logons: number;
  byServer: Record<string, number>;
  switches: { at: string; from: string; to: string }[];
  events: Record<string, number>;
} {
  const byServer: Record<string, number> = {};
  const switches: { at: string; from: string; to: string }[] = [];
  let logons = 0;
  let last: string | null = null;
  for (const l of lines) {
    const m = l.code ? null : LOGON.exec(l.text);
    if (!m) continue;
    const server = m[1]!;
    logons++;
    tally(byServer, server);
    if (last !== null && last !== server) switches.push({ at: l.t, from: last, to: server });
    last = server;
  }
  return { logons, byServer, switches, events: countCodes(lines, LINE_GROUPS.link) };
}

/**
 * Alert raises and clears from the NQ962 lines (`告警 CODE: words`, `告警解除 CODE: words`), for a
 * day without a day record. Alerts the log says in the vendor's words (NQ124 and the like) have
 * no NQ962 line: the day record is the complete source.
 */
export function alertsFromLines(
  lines: LoggedLine[],
): { event: 'raised' | 'cleared'; code: string; severity: string }[] {
  const out: { event: 'raised' | 'cleared'; code: string; severity: string }[] = [];
  for (const l of lines) {
    if (l.code !== 'NQ962') continue;
    const m = /^告警(解除)? ([A-Z_]+):/.exec(l.text);
    if (!m) continue;
    out.push({
      event: m[1] ? 'cleared' : 'raised',
      code: m[2]!,
      severity: l.level === 'warn' ? 'warning' : 'info',
    });
  }
  return out;
}
