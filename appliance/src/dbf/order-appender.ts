import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { encodeRows } from './codec.js';
import { DbfStateError } from './errors.js';
import { COUNT_OFFSET, readHeader } from './header.js';
import { writeAt, Serial } from './io.js';
import { EOF_MARKER, FLAG_DELETED, NQWT, type OrderRow } from './schema.js';

export interface AppendOptions {
  /** Leave the header record count as it was (a counter program that updates it late). */
  staleCount?: boolean;
  /** Write no 0x1A after the records (some programs never write one). Default: write it. */
  noEof?: boolean;
}

/**
 * What the broker's counter program does to NQWT.DBF: records written at the end over the 0x1A,
 * then a new 0x1A, then the header count. Used by the feeder tool and by tests; the gateway
 * never appends orders.
 */
export class OrderFileAppender {
  private readonly serial = new Serial();
  private readonly countBuf = Buffer.alloc(4);

  private constructor(
    readonly path: string,
    private fh: FileHandle | null,
    private readonly headerLength: number,
    private records: number,
  ) {}

  /** Opens an existing NQWT.DBF (checked like the reader does) positioned after its last whole record. */
  static async open(path: string): Promise<OrderFileAppender> {
    const fh = await fsp.open(path, 'r+');
    try {
      const info = await readHeader(fh, path, NQWT);
      const { size } = await fh.stat();
      const records = Math.max(0, Math.floor((size - info.headerLength) / NQWT.recordLength));
      return new OrderFileAppender(path, fh, info.headerLength, records);
    } catch (err) {
      await fh.close();
      throw err;
    }
  }

  /** Records in the file (whole ones, as this appender knows them). */
  get count(): number {
    return this.records;
  }

  /** Appends `rows`; returns the record number of the first. */
  append(rows: OrderRow[], options: AppendOptions = {}): Promise<number> {
    return this.serial.run(async () => {
      const fh = this.handle();
      const bytes = encodeRows(NQWT, rows, options.noEof ? undefined : EOF_MARKER);
      const first = this.records + 1;
      await writeAt(fh, bytes, this.offsetOf(first));
      // Without a 0x1A the file must end right after the records (a stale 0x1A would be a partial record).
      if (options.noEof) await fh.truncate(this.offsetOf(first + rows.length));
      this.records += rows.length;
      if (!options.staleCount) await this.writeCount();
      return first;
    });
  }

  /**
   * Writes the first `splitAt` bytes of one record (over the 0x1A) and stops, as a program caught
   * mid-write. The returned function writes the rest, the 0x1A and the count.
   */
  appendHalf(row: OrderRow, splitAt = Math.floor(NQWT.recordLength / 2)): Promise<() => Promise<void>> {
    return this.serial.run(async () => {
      const fh = this.handle();
      const bytes = encodeRows(NQWT, [row], EOF_MARKER);
      const at = this.offsetOf(this.records + 1);
      await writeAt(fh, bytes.subarray(0, splitAt), at);
      await fh.truncate(at + splitAt); // drop the old 0x1A if splitAt did not reach past it
      return () =>
        this.serial.run(async () => {
          await writeAt(this.handle(), bytes.subarray(splitAt), at + splitAt);
          this.records += 1;
          await this.writeCount();
        });
    });
  }

  /** Marks a record deleted ('*'), as dBase's DELETE does. */
  markDeleted(recNo: number): Promise<void> {
    return this.serial.run(() => writeAt(this.handle(), Buffer.from([FLAG_DELETED]), this.offsetOf(recNo)));
  }

  /** Sets the header count to any value (tests of a count past the end). */
  setHeaderCount(count: number): Promise<void> {
    return this.serial.run(() => this.writeCount(count));
  }

  close(): Promise<void> {
    return this.serial.run(async () => {
      const fh = this.fh;
      this.fh = null;
      if (fh) await fh.close();
    });
  }

  private async writeCount(count = this.records): Promise<void> {
    this.countBuf.writeUInt32LE(count, 0);
    await writeAt(this.handle(), this.countBuf, COUNT_OFFSET);
  }

  private offsetOf(recNo: number): number {
    return this.headerLength + (recNo - 1) * NQWT.recordLength;
  }

  private handle(): FileHandle {
    if (!this.fh) throw new DbfStateError(this.path, 'the appender is closed');
    return this.fh;
  }
}
