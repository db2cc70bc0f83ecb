import type { DbfWarning } from './errors.js';
import type { UnsentRecord } from './order-verdict.js';
import type { OrderRow } from './schema.js';

/** What OrderFileReader hands out, and how it is set up. */

export interface OrderRecord {
  /** 1-based position in NQWT.DBF: the "第 x 笔" of the vendor's messages. */
  recNo: number;
  row: OrderRow;
}

export interface OrderBatch {
  records: OrderRecord[];
  deletedSkipped: number;
  warnings: DbfWarning[];
  /** Records that are not orders (bad field, bad flag byte, blank), judged in a sound file: never sent. */
  unsent: UnsentRecord[];
}

/** How long a record that is not (yet) an order, or a partial tail, is waited for by default. */
export const SETTLE_MS = 3000;

export interface OrderReaderOptions {
  /** Records per readNew at most, so a large backlog comes in slices. Default 4096 (512 KB). */
  maxRecords?: number;
  /** Open without write access; setFlags then refuses. For tools that only look. */
  readOnly?: boolean;
  /**
   * How long a record still being written (blank, flag byte or CLBZ not yet set, a field not yet
   * valid) or a partial last record is waited for before it is judged. Default SETTLE_MS.
   */
  settleMs?: number;
  /** How long a partial tail may last before it is a torn file (NQ520). Default: settleMs. */
  tailMs?: number;
  now?: () => number;
}
