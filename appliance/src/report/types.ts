/**
 * The daily report (日报) of one trading day, as `nqgw report daily --json` prints it and
 * `--ship` stores it. Every figure is read from what the gateway already records (docs/ops.md
 * "The daily report" names the source of each); nothing here is counted twice.
 */
export interface DailyReport {
  kind: 'nqgw-daily-report';
  /** Bumped when a field changes meaning; fields are only ever added. */
  format: 1;
  /** Trading day, CST, YYYYMMDD. */
  date: string;
  station: string;
  host: string;
  generatedAt: string;
  /** `nqgw 0.1.0`: the software that made the report (the same as the running gateway's). */
  software: string;
  /** hash: the fleet's config hash (settings as read, less each replica's own); sha256: the file's bytes. */
  config: { file: string; hash: string; sha256: string };
  orders: {
    /** Orders sent to the main station (journaled before sending; 已发委托). */
    sent: number;
    /** Sent and still without the main station's answer at the end of the journal. */
    unanswered: number;
    /** Records the gateway refused or passed over (CLBZ '2', or an invalid CLBZ left alone). */
    notSent: number;
    /** NQWT.DBF as it stands, for the records dated this day: by CLBZ, null when the file is another day's. */
    orderFile: { records: number; clbz0: number; clbz1: number; clbz2: number } | null;
  };
  returns: {
    /** Rows of NQHB.DBF dated this day (即时回报). */
    total: number;
    accepted: number;
    rejected: number;
    filled: number;
    cancelled: number;
    /** HBLB blank: a kind the main station sent that the file cannot say (NQ540). */
    unknownKind: number;
    lastSeq: number;
  };
  /** Rejections by kind: the gateway's own checks and unsent records by reason code, the main station's by code. */
  rejections: {
    gateway: Record<string, number>;
    mainStation: Record<string, number>;
    /** Returns with HBLB '1' by their error code (CWDM) and words. */
    returnCodes: { code: string; words: string; count: number }[];
  };
  unsent: {
    count: number;
    records: { recNo: number; unit: string; serial: string; code: string; reason: string }[];
  };
  link: {
    logons: number;
    /** Logons by server as tw.ini names it ("server1 127.0.0.1:7043"). */
    byServer: Record<string, number>;
    /** A logon on another server than the one before it. */
    switches: { at: string; from: string; to: string }[];
    /** Link ends and errors by code (NQ303 timeout, NQ304 quit, NQ305 disconnected, NQ320 unanswered...). */
    events: Record<string, number>;
    /** Operator actions of the day from the audit log (reconnect, switch, pause, ...). */
    operatorActions: { time: string; operator: string; checker?: string; action: string; result: string }[];
  };
  alerts: {
    raised: number;
    cleared: number;
    byCode: Record<string, { severity: string; raised: number; cleared: number }>;
    /** Raised and not cleared by the end of the record (still active, or the gateway stopped). */
    open: string[];
  };
  clock: {
    measurements: number;
    /** Worst |offset| of the day in ms, signed as measured, with when; null without measurements. */
    worstOffsetMs: number | null;
    worstAt: string | null;
    /** Watchdog state changes (NQ450 warn, NQ451 alarm, NQ452 back to ok). */
    stateChanges: Record<string, number>;
  };
  shipping: {
    configured: boolean;
    /** The shipper's last status (`nqgw logs ship-status`), when it has written one. */
    status: {
      at: string;
      alarm: string;
      spoolBytes: number;
      objectsShipped: number;
      failures: number;
      lastError: string | null;
      linesDropped: number;
    } | null;
    /** End-of-day archives of this day (local manifests): key prefix and file count. */
    archives: { createdAt: string; files: number; bytes: number }[];
    /** Shipping lines of the day: NQ822 failures said, NQ823 recovered, NQ811/NQ812 spool alarms. */
    events: Record<string, number>;
  };
  soft: {
    window: { start: string; end: string; dayIndex: number; tradingDays: number; remaining: number } | null;
    confirmedToday: boolean;
    softLogons: number;
  } | null;
  ekey: { events: Record<string, number> };
  /** Where each part was read from; a source that was missing says so here, not silently. */
  sources: { name: string; path: string; found: boolean; note?: string }[];
}
