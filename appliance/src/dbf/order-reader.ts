import { promises as fsp, writeSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { decodeOrder } from './codec.js';
import {
  DbfGeometryError,
  DbfReplacedError,
  DbfStateError,
  DbfValueError,
  WARN_COUNT_PAST_END,
} from './errors.js';
import { SETTLE_MS, type OrderBatch, type OrderReaderOptions } from './order-batch.js';
import { judgeRecord, orderOrNull, unsentOf } from './order-verdict.js';
import { TailWatch } from './order-tail.js';
import { readCount, readHeader } from './header.js';
import { identityOf, readAt, Serial, sizeIfSame, type FileIdentity } from './io.js';
import { CLBZ, EOF_MARKER, FLAG_DELETED, FLAG_LIVE, NQWT, type OrderRow } from './schema.js';

export { SETTLE_MS, type OrderBatch, type OrderRecord, type OrderReaderOptions } from './order-batch.js';

/**
 * Incremental reader of NQWT.DBF while the broker's program appends to it.
 *
 * Rules (docs/interface.md): the records to read are counted from the file size, never from the
 * header count, which lags behind the appends; only whole records are read, and only up to where
 * the data area was last seen whole (order-tail.ts): a partial tail is waited for, and a torn one
 * stops the reader. A record that is not (yet) an order is waited for, then judged (records
 * behind it wait with it). Each call reads from the byte offset where the previous one stopped (plus the one
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
  private readonly settleMs: number;
  private readonly now: () => number;
  private readonly buf: Buffer;
  private readonly scratch = Buffer.alloc(4);
  private readonly flagByte = Buffer.alloc(1);
  private readonly tail: TailWatch;
  /** The record being waited for (0: none) and since when. */
  private holdAt = 0;
  private holdSince = 0;
  /** Why the geometry is in doubt (null: it is not): nothing is written while it is. */
  private doubt: string | null = null;
  private readonly serial = new Serial();
  /** Bytes of records read by the last readNew (for monitoring and for the test that guards the cost). */
  lastReadBytes = 0;

  constructor(
    readonly path: string,
    options: OrderReaderOptions = {},
  ) {
    this.maxRecords = Math.max(1, options.maxRecords ?? 4096);
    this.readOnly = options.readOnly ?? false;
    this.settleMs = Math.max(0, options.settleMs ?? SETTLE_MS);
    this.now = options.now ?? Date.now;
    this.tail = new TailWatch(
      path,
      this.recordLength,
      Math.max(0, options.tailMs ?? this.settleMs),
      this.now,
    );
    this.buf = Buffer.alloc((this.maxRecords + 1) * this.recordLength + 1);
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
      const { size } = await fh.stat();
      const data = Math.max(0, size - this.headerLength);
      if (await this.tail.isWhole(fh, size, this.headerLength))
        this.tail.settledComplete = Math.floor(data / this.recordLength);
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
      const whole = Math.floor(Math.max(0, size - this.headerLength) / R);
      // Only where the records are known to start: a torn tail is readNew's to judge.
      const complete = (await this.tail.isWhole(fh, size, this.headerLength))
        ? whole
        : Math.min(whole, this.tail.settledComplete);
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
    return this.serial.run(async () => {
      const batch = await this.readNewNow();
      this.doubt = null; // a read that got through: the geometry is sound again
      return batch;
    });
  }

  private async readNewNow(): Promise<OrderBatch> {
    const fh = this.handle();
    const batch: OrderBatch = { records: [], deletedSkipped: 0, warnings: [], unsent: [] };
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
    // The tail: settled when the data area is whole records (and perhaps a 0x1A). Unknown (null)
    // when one byte is left over and it has not been looked at: it is read with the records.
    let settled = this.tail.known(size, this.headerLength);
    let limit = settled === false ? Math.min(this.tail.settledComplete, complete) : complete;
    let n = Math.min(limit - consumed, this.maxRecords);
    // Waiting on one record: look at it alone until its wait is over.
    if (this.holdAt === this.next && this.now() - this.holdSince < this.settleMs) n = Math.min(n, 1);
    this.lastReadBytes = 0;
    const back = consumed > 0 && n > 0 ? 1 : 0;
    const wantTail = settled === null && n > 0 && consumed + n === complete;
    if (settled === null && !wantTail) settled = await this.tail.eofAt(fh, size);
    let got = 0;
    if (n > 0) {
      const length = (n + back) * R + (wantTail ? 1 : 0);
      got = await readAt(fh, this.buf, length, this.headerLength + (consumed - back) * R);
      this.lastReadBytes = Math.min(got, (n + back) * R); // record bytes; the end mark is not one
      if (wantTail) settled = got === length && this.buf[length - 1] === EOF_MARKER;
    }
    try {
      this.tail.note(size, settled === true, complete, this.headerLength);
    } catch (err) {
      this.doubt = (err as DbfGeometryError).problem;
      throw err;
    }
    if (!settled) {
      limit = Math.min(this.tail.settledComplete, complete);
      n = Math.max(0, Math.min(n, limit - consumed));
    }
    if (n <= 0) return batch;
    const whole = Math.min(n, Math.floor(got / R) - back); // fewer if the file shrank between stat and read
    if (back === 1 && this.hasFingerprint && got >= R && !this.sameRecord(0)) {
      throw new DbfReplacedError(this.path, `record ${consumed} is no longer what was read`);
    }
    const sound = settled === true && headerCount === complete;
    this.takeRecords(batch, whole, back, sound, headerCount, complete);
    return batch;
  }

  /** The records of buf, in order, up to the first one that must be waited for. */
  private takeRecords(
    batch: OrderBatch,
    whole: number,
    back: number,
    sound: boolean,
    headerCount: number,
    complete: number,
  ): void {
    const R = this.recordLength;
    const now = this.now();
    let last = -1; // index in buf of the last record consumed
    let lastUnsent = false;
    for (let i = 0; i < whole; i++) {
      const base = (i + back) * R;
      const recNo = this.next + i;
      // The common case first, without the verdict's allocation: a live record that is an order.
      const row = this.buf[base] === FLAG_LIVE ? orderOrNull(this.buf, base, this.path, recNo) : null;
      if (row) {
        batch.records.push({ recNo, row });
        last = base;
        lastUnsent = false;
        continue;
      }
      const v = judgeRecord(this.buf, base, this.path, recNo);
      if (v.kind === 'order' || v.kind === 'deleted') {
        if (v.kind === 'order') batch.records.push({ recNo, row: v.row });
        else batch.deletedSkipped++;
        last = base;
        lastUnsent = false;
        continue;
      }
      // Not an order now. It may still be being written: wait for it (and everything after it,
      // so that orders keep their file order), then judge it.
      if (this.holdAt !== recNo) {
        this.holdAt = recNo;
        this.holdSince = now;
      }
      const waited = now - this.holdSince;
      if (waited < this.settleMs) break;
      if (v.kind === 'unfinished' && v.row) {
        // Whole but CLBZ blank: the pump's invalid-flag rule (NQ403, 30 s) takes it from here.
        batch.records.push({ recNo, row: v.row });
      } else {
        const bad = v.kind === 'bad' ? v : v.bad!;
        // Writing CLBZ '2' into it is only safe where the record really starts: two signals must
        // agree (whole records to the end, and the header's count says as many).
        if (!sound) {
          if (waited < 2 * this.settleMs) break;
          this.doubt = `record ${recNo} is not an order (${bad.text}) and the geometry cannot be confirmed: the header counts ${headerCount} records, the size makes ${complete}${this.tail.whole ? '' : ' with a partial tail'}`;
          throw new DbfGeometryError(this.path, this.doubt);
        }
        batch.unsent.push(unsentOf(this.buf, base, recNo, bad.code, bad.text));
        lastUnsent = true;
      }
      this.holdAt = 0;
      last = base;
    }
    if (last >= 0) {
      this.buf.copy(this.fingerprint, 0, last, last + R);
      // A record not sent may be corrected in place by the broker: it is no fingerprint.
      this.hasFingerprint = !lastUnsent;
      this.next += last / R - back + 1;
    }
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

  /**
   * One record read again (the 30 s retry of an invalid CLBZ; a record not sent, watched for the
   * broker's correction). Null if it is deleted or not whole; DbfFieldError if it is still not an
   * order; DbfGeometryError while the file's geometry is in doubt.
   */
  rereadRecord(recNo: number): Promise<OrderRow | null> {
    return this.serial.run(async () => {
      const fh = this.handle();
      await sizeIfSame(this.path, this.id);
      if (this.doubt !== null) throw new DbfGeometryError(this.path, this.doubt);
      if (recNo > Math.max(this.tail.settledComplete, this.next - 1)) return null;
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
      // Where records start is in doubt: a CLBZ byte could land in the middle of a real record.
      if (this.doubt !== null)
        throw new DbfGeometryError(this.path, `${this.doubt}; CLBZ not set (nothing written)`);
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
      // A record refused with '2' may be corrected in place by the broker: no longer a fingerprint.
      if (flag === CLBZ.REJECTED_LOCALLY && recNos.includes(this.next - 1)) this.hasFingerprint = false;
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
