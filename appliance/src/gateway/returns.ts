import { REJECT_CODES, type ReturnBody } from '../link/index.js';
import { fitReturn, type DbfWarning, type FittedReturn, type ReturnRecord } from '../dbf/index.js';
import { formatMessage, type MessageCode } from '../shared/index.js';
import type { OperatorLog } from './oplog.js';
import { showRaw, type UnfitEntry, type UnfitReturnLog } from './return-unfit.js';
import type { StageBook } from './stages.js';

/** What the sink needs of NQHB.DBF (dbf's ReturnFileWriter has this shape). */
export interface ReturnStore {
  readonly lastSeq: number;
  /** The trading day the file is for, YYYYMMDD: HBRQ of a return that lacks one. */
  readonly day: string;
  append(rows: readonly ReturnRecord[]): Promise<void>;
  /** Open the file again after a failed write, repairing what it left; throws while the fault lasts. */
  reopen(): Promise<DbfWarning[]>;
}

export interface ReturnCounters {
  returns: number;
  accepted: number;
  rejected: number;
}

export interface ReturnSinkOptions {
  store: ReturnStore;
  log: OperatorLog;
  counters: ReturnCounters;
  /** Rows up to `lastSeq` are durably in NQHB.DBF: acknowledge them. */
  onWritten: (lastSeq: number) => void;
  /** The link must be rebuilt so the main station resends from what the file holds. */
  onResync: (reason: string) => void;
  unfit: UnfitReturnLog;
  now: () => number;
  /** Reopen attempts after a failed write: first after `initialMs`, doubling up to `maxMs`. */
  retry?: { initialMs: number; maxMs: number };
  /** Rows kept in memory while the file cannot be written; beyond it they are left to a resync. */
  holdLimit?: number;
  /** Where the return rows' time goes (nqhb: write and sync); the engine's book. */
  stages?: StageBook;
}

const REJECT_MESSAGE: Record<string, MessageCode> = {
  [REJECT_CODES.SERIAL]: 'NQ411_MAIN_SERIAL',
  [REJECT_CODES.SECURITY]: 'NQ412_MAIN_SECURITY',
  [REJECT_CODES.BUSINESS]: 'NQ413_MAIN_BUSINESS',
  [REJECT_CODES.DATE]: 'NQ414_MAIN_DATE',
  [REJECT_CODES.UNIT]: 'NQ415_MAIN_UNIT',
};

/** Operator lines about unfit returns: the first ones in full, then one summary per this many. */
const DETAIL_LINES = 100;
const SUMMARY_EVERY = 1000;

/**
 * Link → NQHB.DBF. Rows are written (and synced) before they are acknowledged, so a crash
 * between the two only makes the main station resend rows the file already has, which are
 * recognised by HBXH and skipped. The file is the truth for the last sequence held.
 *
 * Never spins: a row whose values do not fit is written with what fits (fitReturn) and reported;
 * a failed write keeps the rows in memory, unacknowledged, and reopens the file on a backoff
 * (1 s doubling to 30 s) with one alert for the whole outage; a sequence gap asks for a resync at
 * once the first time and on the same backoff while resyncs bring nothing new.
 */
export class ReturnSink {
  readonly counters: ReturnCounters;
  private queue: ReturnBody[] = [];
  private running: Promise<void> | null = null;
  /** Received, in sequence after the file's last row, not yet written (only while failing). */
  private held: ReturnBody[] = [];
  /** The write failure of the current outage, until a write succeeds again. */
  private fault: Error | null = null;
  /** False from a failed write until the file has been reopened. */
  private writable = true;
  /** Rows were let go during the outage: the main station must resend them. */
  private lostRows = false;
  private retryTimer: NodeJS.Timeout | null = null;
  private retryDelay: number;
  private retrying: Promise<void> | null = null;
  private resyncTimer: NodeJS.Timeout | null = null;
  private resyncStreak = 0;
  private resyncSeq = -1;
  private unfitLines = 0;
  /** Highest HBXH whose raw values are in the unfit-returns file: a retried write adds no copy. */
  private unfitKept = 0;
  private stopped = false;
  /** A gap seen in the batch being taken: resync once its rows before the gap are written. */
  private gapSeen: string | null = null;
  private readonly retry: { initialMs: number; maxMs: number };

  constructor(private readonly o: ReturnSinkOptions) {
    this.counters = o.counters;
    this.retry = o.retry ?? { initialMs: 1000, maxMs: 30_000 };
    this.retryDelay = this.retry.initialMs;
  }

  get lastSeq(): number {
    return this.o.store.lastSeq;
  }

  /** Take a batch from the link; writes happen one batch after another, never in parallel. */
  push(rows: ReturnBody[]): void {
    if (this.stopped) return;
    this.queue.push(...rows);
    this.kick();
  }

  /** Resolves when everything received so far is on disk, held, or has failed loudly. */
  async idle(): Promise<void> {
    while (this.running || this.retrying) await (this.running ?? this.retrying);
  }

  /** No more retries or resyncs (the gateway is stopping); rows held are not acknowledged. */
  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.resyncTimer) clearTimeout(this.resyncTimer);
    this.retryTimer = this.resyncTimer = null;
  }

  private kick(): void {
    this.running ??= this.drain().finally(() => {
      this.running = null;
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0 || (this.writable && this.held.length > 0)) {
      const batch = this.queue;
      this.queue = [];
      this.take(batch);
      if (this.writable && this.held.length > 0) {
        try {
          await this.write(this.held);
          this.held = [];
          if (this.fault) this.recovered();
        } catch (err) {
          this.failed(err as Error);
        }
      }
      // After the rows before it are written (and acknowledged on this link), not before.
      const gap = this.gapSeen;
      this.gapSeen = null;
      if (gap !== null) this.resync(gap);
    }
  }

  /** Moves the rows that continue the sequence into `held`; a gap drops the rest of the batch. */
  private take(batch: ReturnBody[]): void {
    let expected = this.o.store.lastSeq + this.held.length + 1;
    for (const row of batch) {
      if (row.HBXH < expected) continue; // a resend of a row already held or written
      if (row.HBXH > expected) {
        this.gap(expected, row.HBXH);
        return;
      }
      if (!this.writable && this.held.length >= (this.o.holdLimit ?? 50_000)) {
        if (!this.lostRows)
          this.o.log.warn(
            `回报库不可写期间暂存的回报已达 ${this.held.length} 条, 之后的回报暂不保存, 恢复后由主站重发`,
            'NQ723',
          );
        this.lostRows = true;
        return;
      }
      this.held.push(row);
      expected++;
    }
  }

  private async write(rows: ReturnBody[]): Promise<void> {
    const date = this.o.store.day;
    const fitted: FittedReturn[] = rows.map((r) => fitReturn(r as unknown as Record<string, unknown>, date));
    const unfit: UnfitEntry[] = [];
    fitted.forEach((f, i) => {
      if (f.issues.length > 0) unfit.push({ HBXH: f.row.HBXH, issues: f.issues, body: rows[i] });
    });
    // The raw values are on disk before the row that lacks them is, so before it is acknowledged.
    const fresh = unfit.filter((e) => e.HBXH > this.unfitKept);
    await this.o.unfit.record(date, fresh, this.o.now());
    if (fresh.length > 0) this.unfitKept = fresh[fresh.length - 1]!.HBXH;
    await this.o.store.append(fitted.map((f) => f.row));
    this.reportUnfit(unfit, date);
    this.account(
      fitted.map((f) => f.row),
      rows,
    );
    this.o.onWritten(this.o.store.lastSeq);
  }

  private failed(err: Error): void {
    this.writable = false;
    if (!this.fault) {
      this.fault = err;
      this.o.log.error(formatMessage('NQ206_WRITE_RETURNS_FAILED', { text: err.message }), 'NQ206');
      this.o.log.warn(
        `回报暂不确认, 主站保留未确认的回报; 网关自动重新打开回报库 (${this.retry.initialMs / 1000} 秒起, 最长每 ${this.retry.maxMs / 1000} 秒一次), 恢复后自动续写, 无需重启。请检查磁盘空间和权限 (df, dmesg)`,
        'NQ720',
      );
    } else {
      // The file reopened but the write failed again (a full disk takes the repair, not the rows).
      this.o.log.warn(
        `回报库仍不可写: ${err.message}; ${Math.round(this.retryDelay / 1000)} 秒内再试`,
        'NQ721',
      );
    }
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (this.stopped || this.retryTimer) return;
    const delay = this.retryDelay;
    this.retryDelay = Math.min(this.retry.maxMs, delay * 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.retrying = this.reopen().finally(() => {
        this.retrying = null;
      });
    }, delay);
    this.retryTimer.unref();
  }

  private async reopen(): Promise<void> {
    if (this.stopped) return;
    await this.running; // one thing at a time on the file
    try {
      const warnings = await this.o.store.reopen();
      for (const w of warnings) this.o.log.warn(w.message, w.code);
    } catch (err) {
      this.o.log.warn(
        `回报库仍不可写: ${(err as Error).message}; ${Math.round(this.retryDelay / 1000)} 秒内再试`,
        'NQ721',
      );
      this.scheduleRetry();
      return;
    }
    this.writable = true;
    // The file may hold more or fewer rows than before (repaired, replaced): keep what continues it.
    const next = this.o.store.lastSeq + 1;
    this.held = this.held.filter((r) => r.HBXH >= next);
    if (this.held.length > 0 && this.held[0]!.HBXH !== next) {
      this.held = [];
      this.lostRows = true;
    }
    if (this.held.length === 0 && this.queue.length === 0) {
      this.recovered(); // nothing left to write: the reopen (and its repair) is the proof
      return;
    }
    this.kick(); // writes the held rows: success clears the fault, failure backs off again
    await this.running;
  }

  private recovered(): void {
    this.o.log.info(`回报库已恢复可写, 续写至回报序号 ${this.o.store.lastSeq}`, 'NQ722');
    this.fault = null;
    this.retryDelay = this.retry.initialMs;
    if (this.lostRows) {
      this.lostRows = false;
      this.resync(`return file writable again; resend from ${this.o.store.lastSeq}`);
    }
  }

  private gap(expected: number, got: number): void {
    // Rows after a gap are never written (HBXH runs without holes): the main station resends.
    if (!this.writable) {
      this.lostRows = true; // resynced once the file is back
      return;
    }
    this.gapSeen = `return sequence gap: expected ${expected}, got ${got}`;
  }

  /** A resync at once; again without progress in between, after 1 s, 2 s ... up to 30 s. */
  private resync(reason: string): void {
    if (this.stopped || this.resyncTimer) return;
    const seq = this.o.store.lastSeq;
    this.resyncStreak = seq === this.resyncSeq ? this.resyncStreak + 1 : 0;
    this.resyncSeq = seq;
    if (this.resyncStreak === 0) {
      this.o.onResync(reason);
      return;
    }
    const delay = Math.min(this.retry.maxMs, this.retry.initialMs * 2 ** (this.resyncStreak - 1));
    this.o.log.warn(`${reason}; 重新同步无进展, ${delay / 1000} 秒后再次请求主站重发`, 'NQ724');
    this.resyncTimer = setTimeout(() => {
      this.resyncTimer = null;
      if (!this.stopped) this.o.onResync(reason);
    }, delay);
    this.resyncTimer.unref();
  }

  private reportUnfit(unfit: readonly UnfitEntry[], date: string): void {
    const file = this.o.unfit.fileFor(date);
    for (const e of unfit) {
      this.unfitLines++;
      if (this.unfitLines > DETAIL_LINES) {
        if ((this.unfitLines - DETAIL_LINES) % SUMMARY_EVERY === 0)
          this.o.log.error(`另有 ${SUMMARY_EVERY} 条回报字段不符合回报库格式, 原值见 ${file}`, 'NQ540');
        continue;
      }
      const b = e.body as Record<string, unknown>;
      const order = `交易单元 ${showRaw(b.JYDY, 16)} 流水号 ${showRaw(b.LSH, 20)}`;
      for (const i of e.issues) {
        const written = i.written === '' || i.written === null ? '空' : showRaw(i.written);
        const text = `回报序号 ${e.HBXH} (${order}) 字段 ${i.field} ${i.why}, 已写为${written}; 主站原值 ${showRaw(i.raw)} 已记入 ${file}`;
        if (i.kind === 'cleaned') this.o.log.warn(text, 'NQ541');
        else this.o.log.error(text, 'NQ540');
      }
    }
  }

  private account(rows: readonly ReturnRecord[], bodies: readonly ReturnBody[]): void {
    this.counters.returns += rows.length;
    rows.forEach((row, i) => {
      if (row.HBLB === '0') this.counters.accepted++;
      else if (row.HBLB === '1') {
        this.counters.rejected++;
        const key = REJECT_MESSAGE[row.CWDM];
        const recNo = bodies[i]?.recNo;
        const n = typeof recNo === 'number' && Number.isSafeInteger(recNo) ? recNo : row.LSH;
        this.o.log.error(
          key ? formatMessage(key, { n }) : `主站错单通知：委托第${n}笔 ${row.CWXX.slice(0, 60)}`,
          key?.slice(0, 5),
        );
      }
    });
  }
}
