import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { encodeReturnRows, type ReturnRecord } from './codec.js';
import { createDbfFile } from './create.js';
import {
  DbfSequenceError,
  DbfStateError,
  DbfWriteError,
  ReturnsNotTodayError,
  type DbfWarning,
} from './errors.js';
import { dateAndCount, DATE_AND_COUNT_OFFSET } from './header.js';
import { writeAt, Serial } from './io.js';
import { archiveReturnFile, scanAndRepair } from './return-repair.js';
import { EOF_MARKER, NQHB, type ReturnKind } from './schema.js';

export interface ReturnOpenOptions {
  /** Today's date in CST, YYYYMMDD (cstDate(clock.now())). */
  today: string;
  /** Move a file of another day aside as NQHB.<date>.DBF instead of refusing it as the vendor does. */
  archiveOld: boolean;
}

export interface ReturnOpenResult {
  writer: ReturnFileWriter;
  /** Where the previous day's file went, when it was archived. */
  archivedTo?: string;
  /** What the open found and repaired (half-written tail, lagging or overshooting count, damage). */
  warnings: DbfWarning[];
}

/**
 * The gateway's writer of NQHB.DBF. One writer per file (the gateway's single-instance lock sees
 * to that). Each append is records + 0x1A in one write at the end, then the header count, then
 * one fsync: after a crash the file holds whole records up to some point, and open() trims the
 * rest. HBXH must run 1, 2, 3 ... with no gap and no repeat; a row that would break that is
 * refused before anything is written.
 */
export class ReturnFileWriter {
  private readonly serial = new Serial();
  private broken: DbfWriteError | null = null;

  private constructor(
    readonly path: string,
    private fh: FileHandle | null,
    private headerLength: number,
    private records: number,
    private seq: number,
    private readonly today: string,
    private kinds: Record<ReturnKind, number>,
  ) {}

  static async open(file: string, options: ReturnOpenOptions): Promise<ReturnOpenResult> {
    const { today } = options;
    if (!/^\d{8}$/.test(today))
      throw new DbfStateError(file, `today must be YYYYMMDD, got ${JSON.stringify(today)}`);
    const warnings: DbfWarning[] = [];
    await createIfMissing(file, today);
    let fh = await fsp.open(file, 'r+');
    try {
      let state = await scanAndRepair(fh, file, today, warnings);
      let archivedTo: string | undefined;
      if (state.otherDate !== null) {
        if (!options.archiveOld) throw new ReturnsNotTodayError(file, state.otherDate, today);
        await fh.close();
        archivedTo = await archiveReturnFile(file, state.otherDate);
        await createIfMissing(file, today);
        fh = await fsp.open(file, 'r+');
        state = await scanAndRepair(fh, file, today, warnings);
      }
      const writer = new ReturnFileWriter(
        file,
        fh,
        state.headerLength,
        state.count,
        state.lastSeq,
        today,
        state.kinds,
      );
      return archivedTo === undefined ? { writer, warnings } : { writer, archivedTo, warnings };
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw err;
    }
  }

  /** Highest HBXH in the file; 0 when empty. The gateway tells the main station this at logon. */
  get lastSeq(): number {
    return this.seq;
  }

  /** Live rows by 回报类别 (HBLB '0' accepted, '1' rejected, '2' filled, '3' cancelled). */
  get kindCounts(): Readonly<Record<ReturnKind, number>> {
    return this.kinds;
  }

  /** The trading day (YYYYMMDD, CST) the file is for. */
  get day(): string {
    return this.today;
  }

  /** Records in the file. */
  get count(): number {
    return this.records;
  }

  /** The failure that broke the writer (it refuses appends until reopen() succeeds), or null. */
  get failure(): DbfWriteError | null {
    return this.broken;
  }

  /**
   * After a failed write: close the handle, open the file again and repair what the failed write
   * left (as at start-up), so appends can go on without a restart. The file keeps its day: one
   * holding another day's rows is refused (ReturnsNotTodayError), never archived from here.
   * Returns the repairs made. Throws, leaving the writer broken, while the fault lasts.
   */
  reopen(): Promise<DbfWarning[]> {
    return this.serial.run(async () => {
      const old = this.fh;
      this.fh = null;
      await old?.close().catch(() => undefined);
      const warnings: DbfWarning[] = [];
      await createIfMissing(this.path, this.today);
      const fh = await fsp.open(this.path, 'r+');
      try {
        const state = await scanAndRepair(fh, this.path, this.today, warnings);
        if (state.otherDate !== null) throw new ReturnsNotTodayError(this.path, state.otherDate, this.today);
        this.headerLength = state.headerLength;
        this.records = state.count;
        this.seq = state.lastSeq;
        this.kinds = state.kinds;
      } catch (err) {
        await fh.close().catch(() => undefined);
        throw err;
      }
      this.fh = fh;
      this.broken = null;
      return warnings;
    });
  }

  /** Writes `rows` after the last record, the 0x1A, the header count, then one fsync. */
  append(rows: readonly ReturnRecord[]): Promise<void> {
    return this.serial.run(async () => {
      const fh = this.handle();
      if (rows.length === 0) return;
      let expected = this.seq + 1;
      for (const r of rows) {
        if (r.HBXH !== expected) throw new DbfSequenceError(this.path, expected, r.HBXH);
        expected++;
      }
      const bytes = encodeReturnRows(rows, EOF_MARKER); // DbfValueError here leaves the file untouched
      const count = this.records + rows.length;
      try {
        await writeAt(fh, bytes, this.headerLength + this.records * NQHB.recordLength);
        await writeAt(fh, dateAndCount(this.today, count), DATE_AND_COUNT_OFFSET);
        await fh.sync();
      } catch (err) {
        // After a failed write or fsync nobody knows what is on disk (fsync errors are not
        // repeatable): refuse everything until a reopen has looked at the file again.
        this.broken = new DbfWriteError(this.path, err);
        throw this.broken;
      }
      this.records = count;
      this.seq = expected - 1;
      for (const row of rows) this.kinds[row.HBLB]++;
    });
  }

  close(): Promise<void> {
    return this.serial.run(async () => {
      const fh = this.fh;
      this.fh = null;
      if (fh) await fh.close();
    });
  }

  private handle(): FileHandle {
    if (this.broken)
      throw new DbfStateError(
        this.path,
        `an earlier write failed (${this.broken.message}); reopen the return file`,
      );
    if (!this.fh) throw new DbfStateError(this.path, 'the return file is closed');
    return this.fh;
  }
}

async function createIfMissing(file: string, today: string): Promise<void> {
  try {
    await createDbfFile(file, NQHB, { date: today });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}
