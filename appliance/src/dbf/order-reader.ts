import { promises as fsp, writeSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { decodeOrder } from './codec.js';
import {
  DbfFieldError,
  DbfReplacedError,
  DbfStateError,
  DbfValueError,
  WARN_BAD_FLAG,
  WARN_COUNT_PAST_END,
  type DbfWarning,
} from './errors.js';
import { readCount, readHeader } from './header.js';
import { identityOf, readAt, Serial, sizeIfSame, type FileIdentity } from './io.js';
import { FLAG_DELETED, FLAG_LIVE, NQWT, type OrderRow } from './schema.js';

export interface OrderRecord {
  /** 1-based position in NQWT.DBF: the "第 x 笔" of the vendor's messages. */
  recNo: number;
  row: OrderRow;
}

export interface OrderBatch {
  records: OrderRecord[];
  deletedSkipped: number;
  warnings: DbfWarning[];
}

export interface OrderReaderOptions {
  /** Records per readNew at most, so a large backlog comes in slices. Default 4096 (512 KB). */
  maxRecords?: number;
  /** Open without write access; setFlags then refuses. For tools that only look. */
  readOnly?: boolean;
}

/**
 * Incremental reader of NQWT.DBF while the broker's program appends to it.
 *
 * Rules (docs/interface.md): the records to read are counted from the file size, never from the
 * header count, which lags behind the appends; only whole records are read, so a half-written
 * last record waits for the next call; a trailing 0x1A is just a partial record to the size
 * arithmetic. Each call reads from the byte offset where the previous one stopped (plus the one
 * record before it, to notice the file being rewritten in place), so its cost follows the new
 * records, never the size of the file.
 */
export class OrderFileReader {
  private fh: FileHandle | null = null;
  private id: FileIdentity = { dev: 0n, ino: 0n };
  private headerLength = NQWT.headerLength;
  private readonly recordLength = NQWT.recordLength;
  private readonly clbzOffset = NQWT.offsetOf('CLBZ');
  private next = 1;
  /** Complete records in the file at the last look: setFlags may touch no record beyond it. */
  private complete = 0;
  /** The last record consumed, as read, to detect the file being rewritten in place. */
  private readonly fingerprint: Buffer;
  private hasFingerprint = false;
  private warnedCountPastEnd = false;
  private readonly maxRecords: number;
  private readonly readOnly: boolean;
  private readonly buf: Buffer;
  private readonly scratch = Buffer.alloc(4);
  private readonly flagByte = Buffer.alloc(1);
  private readonly serial = new Serial();
  /** Bytes of records read by the last readNew (for monitoring and for the test that guards the cost). */
  lastReadBytes = 0;

  constructor(
    readonly path: string,
    options: OrderReaderOptions = {},
  ) {
    this.maxRecords = Math.max(1, options.maxRecords ?? 4096);
    this.readOnly = options.readOnly ?? false;
    this.buf = Buffer.alloc((this.maxRecords + 1) * this.recordLength);
    this.fingerprint = Buffer.alloc(this.recordLength);
  }

  /** Opens the file and checks its header against the NQWT layout (DbfFormatError if it differs). */
  async open(): Promise<void> {
    if (this.fh) return;
    const fh = await fsp.open(this.path, this.readOnly ? 'r' : 'r+');
    try {
      const info = await readHeader(fh, this.path, NQWT);
      this.headerLength = info.headerLength;
      this.id = await identityOf(fh);
    } catch (err) {
      await fh.close();
      throw err;
    }
    this.fh = fh;
  }

  /** The record number the next readNew starts at. */
  get nextRecNo(): number {
    return this.next;
  }

  /**
   * Complete records in the file that readNew has not returned yet (待发委托 while sending is
   * held or the link is down). One fstat; never reads records.
   */
  async unread(): Promise<number> {
    const { size } = await this.handle().stat();
    const complete = Math.floor(Math.max(0, size - this.headerLength) / this.recordLength);
    return Math.max(0, complete - (this.next - 1));
  }

  /** Resume after a restart: the next readNew returns records from `recNo` on. */
  skipTo(recNo: number): void {
    if (!Number.isInteger(recNo) || recNo < 1)
      throw new DbfStateError(this.path, `skipTo(${recNo}): record numbers start at 1`);
    this.next = recNo;
    this.hasFingerprint = false;
  }

  /**
   * Move past the leading records that are already settled (CLBZ one of `settled`, or deleted),
   * looking at two bytes per record instead of decoding it: a gateway started on a day's file of
   * a million sent orders reaches the new ones in a fraction of a second. Stops at the first
   * record that is not settled. Returns how many records it passed.
   */
  skipSettled(settled: readonly string[]): Promise<number> {
    return this.serial.run(async () => {
      const fh = this.handle();
      const size = await sizeIfSame(this.path, this.id);
      const R = this.recordLength;
      const complete = Math.floor(Math.max(0, size - this.headerLength) / R);
      const codes = new Set(settled.map((f) => f.charCodeAt(0)));
      const start = this.next;
      while (this.next <= complete) {
        const n = Math.min(complete - this.next + 1, this.maxRecords);
        const got = await readAt(fh, this.buf, n * R, this.headerLength + (this.next - 1) * R);
        const whole = Math.floor(got / R);
        let i = 0;
        for (; i < whole; i++) {
          const flag = this.buf[i * R];
          if (flag !== FLAG_DELETED && !(flag === FLAG_LIVE && codes.has(this.buf[i * R + this.clbzOffset]!)))
            break;
        }
        this.next += i;
        if (i < whole || whole === 0) break;
      }
      this.hasFingerprint = false;
      return this.next - start;
    });
  }

  /** The complete records appended since the last call (at most maxRecords of them). */
  readNew(): Promise<OrderBatch> {
    return this.serial.run(() => this.readNewNow());
  }

  private async readNewNow(): Promise<OrderBatch> {
    const fh = this.handle();
    const batch: OrderBatch = { records: [], deletedSkipped: 0, warnings: [] };
    // The count is read before the size: a writer updates the count after the records, so a
    // count read first can never be ahead of the size read second unless the file is wrong.
    const headerCount = await readCount(fh, this.scratch);
    const size = await sizeIfSame(this.path, this.id);
    const R = this.recordLength;
    const consumed = this.next - 1;
    if (size < this.headerLength + consumed * R) {
      throw new DbfReplacedError(
        this.path,
        `it is ${size} bytes, shorter than the ${consumed} records already read`,
      );
    }
    const complete = Math.floor((size - this.headerLength) / R);
    this.complete = complete;
    if (headerCount > complete && !this.warnedCountPastEnd) {
      this.warnedCountPastEnd = true;
      batch.warnings.push({
        code: WARN_COUNT_PAST_END,
        message: `${this.path}: the header says ${headerCount} records but the file holds ${complete} complete ones; reading by file size`,
      });
    }
    const n = Math.min(complete - consumed, this.maxRecords);
    this.lastReadBytes = 0;
    if (n <= 0) return batch;
    const back = consumed > 0 ? 1 : 0;
    const got = await readAt(fh, this.buf, (n + back) * R, this.headerLength + (consumed - back) * R);
    this.lastReadBytes = got;
    const whole = Math.floor(got / R) - back; // fewer if the file shrank between stat and read
    if (back === 1 && this.hasFingerprint && got >= R && !this.sameRecord(0)) {
      throw new DbfReplacedError(this.path, `record ${consumed} is no longer what was read`);
    }
    let last = -1; // index in buf of the last record consumed
    for (let i = 0; i < whole; i++) {
      const base = (i + back) * R;
      const recNo = this.next + i;
      const flag = this.buf[base];
      if (flag === FLAG_DELETED) {
        batch.deletedSkipped++;
      } else if (flag !== FLAG_LIVE) {
        // The last record may be mid-write by a program that fills the flag last: wait for it.
        if (recNo === complete) break;
        batch.warnings.push({
          recNo,
          code: WARN_BAD_FLAG,
          message: `${this.path} record ${recNo}: deletion flag is 0x${(flag ?? 0).toString(16)}, neither ' ' nor '*'; record skipped`,
        });
      } else {
        try {
          batch.records.push({ recNo, row: decodeOrder(this.buf, base, this.path, recNo) });
        } catch (err) {
          if (!(err instanceof DbfFieldError)) throw err;
          batch.warnings.push({ recNo, code: err.code, message: `${err.message}. ${err.hint ?? ''}`.trim() });
        }
      }
      last = base;
    }
    if (last >= 0) {
      this.buf.copy(this.fingerprint, 0, last, last + R);
      this.hasFingerprint = true;
      this.next += last / R - back + 1;
    }
    return batch;
  }

  /** True when the record at `base` in buf matches the fingerprint, apart from the bytes others may change. */
  private sameRecord(base: number): boolean {
    // Byte 0 (the broker may delete a record) and CLBZ (we, or a backup gateway, set it) are left out.
    const R = this.recordLength;
    const c = this.clbzOffset;
    return (
      this.buf.compare(this.fingerprint, 1, c, base + 1, base + c) === 0 &&
      this.buf.compare(this.fingerprint, c + 1, R, base + c + 1, base + R) === 0
    );
  }

  /** One record read again (the 30 s retry of an invalid CLBZ). Null if it is deleted or not whole. */
  rereadRecord(recNo: number): Promise<OrderRow | null> {
    return this.serial.run(async () => {
      const fh = this.handle();
      await sizeIfSame(this.path, this.id);
      const R = this.recordLength;
      const rec = Buffer.alloc(R);
      const got = await readAt(fh, rec, R, this.headerLength + (recNo - 1) * R);
      if (got < R || rec[0] !== FLAG_LIVE) return null;
      return decodeOrder(rec, 0, this.path, recNo);
    });
  }

  /**
   * Sets CLBZ of the given records: one byte written in place per record, nothing else touched.
   * Not synced: call sync() when the flags must survive a power cut.
   */
  setFlags(recNos: number[], flag: string): Promise<void> {
    return this.serial.run(async () => {
      const fh = this.handle();
      if (this.readOnly) throw new DbfStateError(this.path, 'opened read-only, cannot set CLBZ');
      if (!/^[\x20-\x7e]$/.test(flag))
        throw new DbfValueError(NQWT.name, 'CLBZ', `${JSON.stringify(flag)} is not one ASCII character`);
      await sizeIfSame(this.path, this.id);
      for (const recNo of recNos) {
        if (!Number.isInteger(recNo) || recNo < 1 || recNo > Math.max(this.complete, this.next - 1)) {
          throw new DbfStateError(
            this.path,
            `record ${recNo} is not a whole record of the file; CLBZ not set (nothing written)`,
          );
        }
      }
      this.flagByte[0] = flag.charCodeAt(0);
      const base = this.headerLength + this.clbzOffset;
      // Synchronous 1-byte pwrites: each lands in the page cache in about a microsecond, far less
      // than a thread-pool round trip per record would cost at 20,000 orders a second.
      for (const recNo of recNos)
        writeSync(fh.fd, this.flagByte, 0, 1, base + (recNo - 1) * this.recordLength);
    });
  }

  /** fsync: the flags set so far are on disk when this resolves. */
  sync(): Promise<void> {
    return this.serial.run(() => this.handle().sync());
  }

  close(): Promise<void> {
    return this.serial.run(async () => {
      const fh = this.fh;
      this.fh = null;
      if (fh) await fh.close();
    });
  }

  private handle(): FileHandle {
    if (!this.fh) throw new DbfStateError(this.path, 'the order file is not open (call open() first)');
    return this.fh;
  }
}
