/**
 * The simulator's memory, kept so that it survives its own restart (kill -9 included): an
 * append-only JSON-lines log (`sim-state.jsonl` in state_dir), one record a line, replayed at
 * start. A record is applied to memory when it is made and written with the next group commit:
 * the session makes all the records of one incoming data chunk, calls commit() once (one write,
 * one fdatasync for everything pending, from every session) and sends its frames only after that
 * resolves - store first, then send. A torn last line (a crash in the middle of a write) is
 * ignored and cut off; a damaged line anywhere else stops the start with a SimStateError.
 */
import { mkdir, open, readFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError } from '../shared/index.js';
import type { ReturnBody } from './codec.js';
import type { OrderView, TakenOrder } from './rules.js';

/** One line of the log. 'o': an order taken and the returns it made (HBXH in sequence). */
export type LogRecord =
  | { k: 'o'; st: string; d: string; o: TakenOrder; r: ReturnBody[] }
  | { k: 'dup'; st: string; d: string }
  | { k: 'ack'; st: string; d: string; seq: number }
  | { k: 'susp'; code: string; on: boolean }
  | { k: 'soft'; st: string; d: string }
  | { k: 'mkt'; state: string };

/** Everything the main station holds for one station on one trading day. */
export interface DayState {
  orders: Map<string, OrderView>;
  /** Orders in the order they were taken. */
  taken: OrderView[];
  /** Returns as JSON text (ReturnBody), index i holding HBXH i+1: sent as frame bodies verbatim. */
  returns: string[];
  duplicatesDropped: number;
  rejected: number;
  lastAcked: number;
}

export class SimStateError extends AppError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(
      'SIM_STATE',
      message,
      'the simulator state log is damaged; move state_dir away to start afresh',
      options,
    );
  }
}

export const STATE_FILE = 'sim-state.jsonl';

const orderKey = (unit: string, lsh: string): string => `${unit}\u0000${lsh}`;
const dayKey = (st: string, d: string): string => `${st}\u0000${d}`;

export class SimStore {
  private readonly days = new Map<string, DayState>();
  private readonly fills = new Map<string, number>();
  private readonly suspended = new Set<string>();
  private readonly soft = new Set<string>();
  private marketState: string;
  private pending: string[] = [];
  private chain: Promise<void> = Promise.resolve();
  private nextBatch: Promise<void> | null = null;
  private fh: FileHandle | null = null;
  private failure: Error | null = null;

  private constructor(
    readonly path: string,
    initialMarket: string,
  ) {
    this.marketState = initialMarket;
  }

  /** Open (creating if need be) the log in `dir` and replay it. */
  static async open(dir: string, initialMarket = 'OPEN'): Promise<SimStore> {
    await mkdir(dir, { recursive: true });
    const store = new SimStore(join(dir, STATE_FILE), initialMarket);
    await store.replay();
    return store;
  }

  private async replay(): Promise<void> {
    let text = '';
    try {
      text = await readFile(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new SimStateError(`cannot read ${this.path}: ${(err as Error).message}`, { cause: err });
      }
    }
    const lines = text.split('\n');
    let goodBytes = 0;
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!;
      const complete = i < lines.length - 1;
      if (line === '') {
        goodBytes += complete ? 1 : 0;
        continue;
      }
      let rec: LogRecord;
      try {
        rec = JSON.parse(line) as LogRecord;
      } catch (err) {
        const last = lines.slice(i + 1).every((l) => l === '');
        if (last) break; // torn tail: cut off below
        throw new SimStateError(`${this.path}:${i + 1}: damaged record`, { cause: err });
      }
      if (!complete) break; // no newline: the write did not finish
      this.apply(rec, i + 1);
      goodBytes += Buffer.byteLength(line, 'utf8') + 1;
    }
    this.fh = await open(this.path, 'a+');
    const size = (await this.fh.stat()).size;
    if (size !== goodBytes) {
      await this.fh.truncate(goodBytes);
      await this.fh.datasync();
    }
  }

  private applyOrder(
    st: string,
    d: string,
    o: TakenOrder,
    returns: ReturnBody[],
    texts: string[],
    line: number,
  ): void {
    const day = this.day(st, d);
    const view: OrderView = {
      JYDY: o.JYDY,
      LSH: o.LSH,
      YWLB: o.YWLB,
      ZQDM: o.ZQDM,
      GDDM: o.GDDM,
      WTJG: o.WTJG,
      WTSL: o.WTSL,
      possDup: o.possDup,
      recNo: o.recNo,
      accepted: o.accepted,
      filled: 0,
      cancelled: false,
    };
    day.orders.set(orderKey(view.JYDY, view.LSH), view);
    day.taken.push(view);
    for (let i = 0; i < returns.length; i++) {
      const r = returns[i]!;
      if (r.HBXH !== day.returns.length + 1) {
        throw new SimStateError(`${this.path}:${line}: return ${r.HBXH} of ${st} on ${d} out of sequence`);
      }
      day.returns.push(texts[i]!);
      const target = day.orders.get(orderKey(r.JYDY, r.LSH));
      if (r.HBLB === '1') day.rejected++;
      if (r.HBLB === '2') {
        if (target) target.filled += r.CJSL;
        this.fills.set(d, (this.fills.get(d) ?? 0) + 1);
      }
      if (r.HBLB === '3' && target) target.cancelled = true;
    }
  }

  private apply(rec: LogRecord, line: number): void {
    switch (rec.k) {
      case 'o':
        this.applyOrder(
          rec.st,
          rec.d,
          rec.o,
          rec.r,
          rec.r.map((r) => JSON.stringify(r)),
          line,
        );
        break;
      case 'dup':
        this.day(rec.st, rec.d).duplicatesDropped++;
        break;
      case 'ack': {
        const day = this.day(rec.st, rec.d);
        day.lastAcked = Math.max(day.lastAcked, rec.seq);
        break;
      }
      case 'susp':
        if (rec.on) this.suspended.add(rec.code);
        else this.suspended.delete(rec.code);
        break;
      case 'soft':
        this.soft.add(dayKey(rec.st, rec.d));
        break;
      case 'mkt':
        this.marketState = rec.state;
        break;
    }
  }

  /** Apply a record now; it is written with the next commit(). */
  record(rec: LogRecord): void {
    if (this.failure) throw this.failure;
    this.apply(rec, 0);
    this.pending.push(`${JSON.stringify(rec)}\n`);
  }

  /**
   * Record an order taken and its returns (the hot path: each return is serialised once, and the
   * same text goes into the log line and, returned from here, into the Return frames).
   */
  recordOrder(station: string, date: string, order: TakenOrder, returns: ReturnBody[]): string[] {
    if (this.failure) throw this.failure;
    const texts = returns.map((r) => JSON.stringify(r));
    this.applyOrder(station, date, order, returns, texts, 0);
    const head = JSON.stringify({ k: 'o', st: station, d: date, o: order });
    this.pending.push(`${head.slice(0, -1)},"r":[${texts.join(',')}]}\n`);
    return texts;
  }

  /**
   * Make everything recorded so far durable. Calls that arrive while a write is in flight share
   * the next one (group commit). A failed write fails this and every later commit: the store is
   * then unusable, loudly.
   */
  commit(): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.nextBatch) return this.nextBatch;
    if (this.pending.length === 0) return this.chain;
    const batch = this.chain.then(async () => {
      this.nextBatch = null;
      const data = this.pending.join('');
      this.pending = [];
      const fh = this.fh;
      if (!fh) throw new SimStateError('state log is closed');
      try {
        await fh.appendFile(data, 'utf8');
        await fh.datasync();
      } catch (err) {
        this.failure = new SimStateError(`cannot write ${this.path}: ${(err as Error).message}`, {
          cause: err,
        });
        throw this.failure;
      }
    });
    this.nextBatch = batch;
    this.chain = batch;
    return batch;
  }

  async close(): Promise<void> {
    try {
      await this.commit();
    } finally {
      const fh = this.fh;
      this.fh = null;
      await fh?.close();
    }
  }

  day(station: string, date: string): DayState {
    const key = dayKey(station, date);
    let day = this.days.get(key);
    if (!day) {
      day = { orders: new Map(), taken: [], returns: [], duplicatesDropped: 0, rejected: 0, lastAcked: 0 };
      this.days.set(key, day);
    }
    return day;
  }

  findOrder(station: string, date: string, unit: string, lsh: string): OrderView | undefined {
    return this.days.get(dayKey(station, date))?.orders.get(orderKey(unit, lsh));
  }

  /** Fills made so far on `date` (all stations): the next CJBH serial is this plus one. */
  fillCount(date: string): number {
    return this.fills.get(date) ?? 0;
  }

  isSuspended(code: string): boolean {
    return this.suspended.has(code);
  }

  isSoftEnabled(station: string, date: string): boolean {
    return this.soft.has(dayKey(station, date));
  }

  get market(): string {
    return this.marketState;
  }
}
