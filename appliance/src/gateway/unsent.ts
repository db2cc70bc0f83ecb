import { CLBZ, type OrderRow } from '../dbf/index.js';
import type { UnsentInfo } from './journal.js';

/** How often the records not sent are read again for a correction by the broker. */
export const WATCH_MS = 1000;

/** What the watch needs of the order file (a slice of the pump's OrderSource). */
export interface WatchSource {
  rereadRecord(recNo: number): Promise<OrderRow | null>;
  setFlags(recNos: number[], flag: string): Promise<void>;
}

/** A DbfFieldError (the record is still not an order), told apart without importing the class. */
function stillNotAnOrder(err: unknown): boolean {
  return (err as { code?: string }).code === 'NQ503';
}

/**
 * The records of the day the gateway did not send (未发送): refused by its checks, not an order,
 * or an invalid CLBZ passed over. Filled from the journal at start, so a restart remembers them.
 * Each is read again once a second: a record the broker corrected in place and set back to
 * CLBZ '0' comes back as a row to decide, wherever it sits in the file.
 */
export class UnsentBook {
  private lastReason: string | null = null;
  private nextWatch = 0;
  private firstWatch = true;

  constructor(private readonly records: Map<number, UnsentInfo>) {
    for (const info of records.values()) this.lastReason = `${info.code} ${info.text}`;
  }

  add(recNo: number, info: UnsentInfo): void {
    this.records.set(recNo, info);
    this.lastReason = `第 ${recNo} 笔 ${info.code} ${info.text}`;
  }

  /** The record was sent after all (corrected): true if it was listed. */
  remove(recNo: number): boolean {
    return this.records.delete(recNo);
  }

  get size(): number {
    return this.records.size;
  }

  view(): { count: number; last: string | null } {
    return { count: this.records.size, last: this.records.size === 0 ? null : this.lastReason };
  }

  /**
   * Rows of listed records now set back to CLBZ '0' (corrected or a flag fixed late), at most once
   * a second. `skip`: records this step already has. The first pass after a start also sets '2'
   * again on records still not orders, in case the '2' write was lost to a crash.
   */
  async watch(
    source: WatchSource,
    now: number,
    skip: (recNo: number) => boolean,
  ): Promise<{ recNo: number; row: OrderRow }[]> {
    if (this.records.size === 0 || now < this.nextWatch) return [];
    this.nextWatch = now + WATCH_MS;
    const rows: { recNo: number; row: OrderRow }[] = [];
    const reflag: number[] = [];
    for (const [recNo, info] of this.records) {
      if (skip(recNo)) continue;
      let row: OrderRow | null;
      try {
        row = await source.rereadRecord(recNo);
      } catch (err) {
        if (!stillNotAnOrder(err)) throw err;
        if (this.firstWatch && info.code !== 'NQ404') reflag.push(recNo);
        continue;
      }
      if (row && row.CLBZ === CLBZ.NEW) rows.push({ recNo, row });
    }
    this.firstWatch = false;
    if (reflag.length > 0) await source.setFlags(reflag, CLBZ.REJECTED_LOCALLY);
    return rows;
  }
}
