import { existsSync } from 'node:fs';
import { configIdentity, type TwConfig } from '../config/index.js';
import { CLBZ, readOrderFile, readReturnFile } from '../dbf/index.js';
import { SoftEncryption, softSettingsFromConfig } from '../ekey/index.js';
import { emptyReplay, journalFileFor, readJournal } from '../gateway/index.js';
import { parseLogSettings } from '../logs/index.js';
import { cstDate, software, systemClock, type Clock } from '../shared/index.js';
import { readDayRecord } from './recorder.js';
import { linkFromLines, alertsFromLines, countCodes, LINE_GROUPS } from './lines.js';
import {
  configSha256,
  readDayArchives,
  readDayAudit,
  readDayLines,
  readShipStatus,
  tally,
  type LoggedLine,
} from './sources.js';
import type { DailyReport } from './types.js';

export interface CollectOptions {
  /** CST trading day YYYYMMDD; default today. */
  date?: string;
  clock?: Clock;
}

/** Noon CST of a YYYYMMDD day, as epoch ms: "that day" for rules that ask what today is. */
function noonCst(date: string): number {
  return Date.parse(`${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T12:00:00+08:00`);
}

/**
 * The daily report of one trading day, from the records the gateway keeps: the journal (orders
 * sent, refused, unanswered), NQWT.DBF and NQHB.DBF, the structured log segments of the day (link,
 * main-station rejections, EKey, clock and shipping lines), the day record (alerts, clock
 * offsets: recorder.ts), the audit log (operator actions), the shipper's status and the day's
 * archive manifests, and the soft-encryption ledger. Reads only; safe while the gateway runs.
 */
export async function collectDailyReport(
  config: TwConfig,
  options: CollectOptions = {},
): Promise<DailyReport> {
  const clock = options.clock ?? systemClock;
  const date = options.date ?? cstDate(clock.now());
  const stateDir = config.files.stateDir;
  const settings = parseLogSettings(config);
  const sources: DailyReport['sources'] = [];
  const source = (name: string, p: string, found: boolean, note?: string): void => {
    sources.push({ name, path: p, found, ...(note ? { note } : {}) });
  };

  const journalFile = journalFileFor(stateDir, date);
  // A damaged journal (NQ701) or DBF file is reported in `sources`, not fatal: the rest of a bad
  // day is still worth reading.
  const journalRead = await attempt(() => readJournal(journalFile));
  const journal = journalRead.value ?? emptyJournal();
  source('journal', journalFile, journal.exists, journalRead.error);
  const gatewayCodes: Record<string, number> = {};
  const unsentRecords = [...journal.unsent.entries()]
    .sort(([a], [b]) => a - b)
    .map(([recNo, u]) => {
      tally(gatewayCodes, u.code);
      return { recNo, unit: u.unit, serial: u.serial, code: u.code, reason: u.text };
    });

  const ordersRead = await attempt(() => readOrdersOfDay(config.files.orders, date));
  const orderFile = ordersRead.value;
  source(
    'orders',
    config.files.orders,
    orderFile !== undefined,
    ordersRead.error ?? (orderFile === null ? 'no record of this day' : undefined),
  );
  const returnsRead = await attempt(() => readReturnsOfDay(config.files.returns, date));
  const returns = returnsRead.value;
  source('returns', config.files.returns, returns !== undefined, returnsRead.error);

  const { lines, segments } = await readDayLines(settings, date);
  source('log segments', settings.dir, segments > 0, `${segments} segment(s), ${lines.length} lines`);
  const record = await readDayRecord(stateDir, date);
  source('day record', `${stateDir}/report/${date}.jsonl`, record !== null);
  const audit = readDayAudit(stateDir, date);
  source('audit log', `${stateDir}/audit.log`, audit.found);
  const ship = readShipStatus(settings);
  if (settings.store) source('ship status', settings.dir, ship !== null);

  return {
    kind: 'nqgw-daily-report',
    format: 1,
    date,
    station: config.station.id,
    host: settings.host,
    generatedAt: new Date(clock.now()).toISOString(),
    software: software().text,
    config: { file: config.source, hash: configIdentity(config).hash, sha256: configSha256(config.source) },
    orders: {
      sent: journal.ordered,
      unanswered: journal.pending.size,
      notSent: journal.unsent.size,
      orderFile: orderFile ?? null,
    },
    returns: returns ?? {
      total: 0,
      accepted: 0,
      rejected: 0,
      filled: 0,
      cancelled: 0,
      unknownKind: 0,
      lastSeq: 0,
    },
    rejections: {
      gateway: gatewayCodes,
      mainStation: countCodes(lines, LINE_GROUPS.mainStationRejects),
      returnCodes: returns?.codes ?? [],
    },
    unsent: { count: unsentRecords.length, records: unsentRecords },
    link: {
      ...linkFromLines(lines),
      operatorActions: audit.entries.map((e) => ({
        time: e.time,
        operator: e.operator,
        ...(e.checker ? { checker: e.checker } : {}),
        action: e.action + (e.args ? ` ${JSON.stringify(e.args)}` : ''),
        result: e.result,
      })),
    },
    alerts: alertsOf(record, lines),
    clock: clockOf(record, lines),
    shipping: {
      configured: settings.store !== null,
      status: ship
        ? {
            at: new Date(ship.at).toISOString(),
            alarm: ship.alarm,
            spoolBytes: ship.spoolBytes,
            objectsShipped: ship.objectsShipped,
            failures: ship.failures,
            lastError: ship.lastError,
            linesDropped: ship.linesDropped,
          }
        : null,
      archives: readDayArchives(settings, date),
      events: countCodes(lines, LINE_GROUPS.shipping),
    },
    soft: softOf(config, date, lines),
    ekey: { events: countCodes(lines, LINE_GROUPS.ekey) },
    sources,
  };
}

type OrderCounts = NonNullable<DailyReport['orders']['orderFile']>;

/** A source read that may fail: its words for `sources`, and no value. */
async function attempt<T>(read: () => Promise<T>): Promise<{ value: T | undefined; error?: string }> {
  try {
    return { value: await read() };
  } catch (err) {
    return { value: undefined, error: `unreadable: ${(err as Error).message}` };
  }
}

/** No journal (yet): what a gateway that never started has decided, which is nothing. */
function emptyJournal(): Awaited<ReturnType<typeof readJournal>> {
  return { ...emptyReplay(), exists: false };
}

/** NQWT.DBF's records of the day by CLBZ; undefined: no file; null: no record of that day. */
async function readOrdersOfDay(file: string, date: string): Promise<OrderCounts | null | undefined> {
  if (!existsSync(file)) return undefined;
  const rows = (await readOrderFile(file)).filter((r) => r.WTRQ === date);
  if (rows.length === 0) return null;
  const n = (flag: string): number => rows.filter((r) => r.CLBZ === flag).length;
  return { records: rows.length, clbz0: n(CLBZ.NEW), clbz1: n(CLBZ.SENT), clbz2: n(CLBZ.REJECTED_LOCALLY) };
}

async function readReturnsOfDay(
  file: string,
  date: string,
): Promise<(DailyReport['returns'] & { codes: DailyReport['rejections']['returnCodes'] }) | undefined> {
  if (!existsSync(file)) return undefined;
  const rows = (await readReturnFile(file)).filter((r) => r.HBRQ === date);
  const kind = (k: string): number => rows.filter((r) => r.HBLB === k).length;
  const codes = new Map<string, { code: string; words: string; count: number }>();
  for (const r of rows) {
    if (r.HBLB !== '1') continue;
    const key = `${r.CWDM}\t${r.CWXX}`;
    const c = codes.get(key) ?? { code: r.CWDM, words: r.CWXX, count: 0 };
    c.count++;
    codes.set(key, c);
  }
  return {
    total: rows.length,
    accepted: kind('0'),
    rejected: kind('1'),
    filled: kind('2'),
    cancelled: kind('3'),
    unknownKind: kind(''),
    lastSeq: rows.reduce((m, r) => Math.max(m, r.HBXH), 0),
    codes: [...codes.values()].sort((a, b) => b.count - a.count),
  };
}

function alertsOf(
  record: Awaited<ReturnType<typeof readDayRecord>>,
  lines: LoggedLine[],
): DailyReport['alerts'] {
  // Without a day record (a gateway older than the record, or none ran): the log's NQ962 lines.
  const events =
    record?.flatMap((l) =>
      l.k === 'alert' ? [{ event: l.event, code: l.code, severity: l.severity }] : [],
    ) ?? alertsFromLines(lines);
  const byCode: DailyReport['alerts']['byCode'] = {};
  const open = new Set<string>();
  for (const e of events) {
    const c = (byCode[e.code] ??= { severity: e.severity, raised: 0, cleared: 0 });
    if (e.event === 'raised') {
      c.raised++;
      open.add(e.code);
    } else {
      c.cleared++;
      open.delete(e.code);
    }
  }
  return {
    raised: events.filter((e) => e.event === 'raised').length,
    cleared: events.filter((e) => e.event === 'cleared').length,
    byCode,
    open: [...open].sort(),
  };
}

function clockOf(
  record: Awaited<ReturnType<typeof readDayRecord>>,
  lines: LoggedLine[],
): DailyReport['clock'] {
  let worst: { offsetMs: number; t: string } | null = null;
  let measurements = 0;
  for (const l of record ?? []) {
    if (l.k !== 'clock') continue;
    measurements++;
    if (!worst || Math.abs(l.offsetMs) > Math.abs(worst.offsetMs)) worst = { offsetMs: l.offsetMs, t: l.t };
  }
  return {
    measurements,
    worstOffsetMs: worst?.offsetMs ?? null,
    worstAt: worst?.t ?? null,
    stateChanges: countCodes(lines, LINE_GROUPS.clock),
  };
}

function softOf(config: TwConfig, date: string, lines: LoggedLine[]): DailyReport['soft'] {
  const softLogons = countCodes(lines, ['NQ104'])['NQ104'] ?? 0;
  let ledger: string;
  try {
    ledger = softSettingsFromConfig(config).ledger;
  } catch {
    return null; // [soft] settings are wrong: `nqgw config check` says so
  }
  if (config.tls.mode !== 'soft' && !existsSync(ledger) && softLogons === 0) return null;
  try {
    const s = SoftEncryption.fromConfig(config, { now: () => noonCst(date) }).status();
    return {
      window: s.window
        ? {
            start: s.window.start,
            end: s.window.end,
            dayIndex: s.window.dayIndex,
            tradingDays: s.window.tradingDays,
            remaining: s.window.remaining,
          }
        : null,
      confirmedToday: s.window?.confirmedToday != null,
      softLogons,
    };
  } catch {
    return { window: null, confirmedToday: false, softLogons };
  }
}
