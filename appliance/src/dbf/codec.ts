import iconv from 'iconv-lite';
import { DbfFieldError, DbfValueError } from './errors.js';
import { decodeOrderStrict } from './strict-order.js';
import {
  FLAG_DELETED,
  FLAG_LIVE,
  NQHB,
  NQWT,
  TEXT_ENCODING,
  type DbfLayout,
  type FieldSpec,
  type OrderRow,
  type ReturnRow,
} from './schema.js';

/**
 * Record <-> row, straight from and into a caller's Buffer at a given offset. This runs for every
 * order at up to 20,000 a second, so: offsets come precomputed from the schema, numbers are
 * parsed and printed digit by digit (no intermediate strings), and text takes an ASCII path
 * (one latin1 slice or write) before falling back to iconv for GBK.
 */

const SPACE = 0x20;
const POW10 = [1, 10, 100, 1000, 10000, 100000, 1000000];

/** Where the bytes of a text field end once trailing spaces (and NULs some writers use) are dropped. */
function textEnd(buf: Buffer, start: number, end: number): number {
  while (end > start) {
    const b = buf[end - 1];
    if (b !== SPACE && b !== 0) break;
    end--;
  }
  return end;
}

function readText(buf: Buffer, start: number, length: number): string {
  const end = textEnd(buf, start, start + length);
  for (let i = start; i < end; i++) {
    if ((buf[i] as number) >= 0x80) return iconv.decode(buf.subarray(start, end), TEXT_ENCODING);
  }
  return buf.toString('latin1', start, end);
}

/** Parses right-aligned ASCII ("   12.345", "-3", blank = 0). NaN for anything else. */
function readNumber(buf: Buffer, start: number, length: number): number {
  let i = start;
  const end = textEnd(buf, start, start + length);
  while (i < end && buf[i] === SPACE) i++;
  if (i === end) return 0; // blank: dBase's "no value"; the model treats it as 0 (docs/interface.md)
  let sign = 1;
  if (buf[i] === 0x2d) {
    sign = -1;
    i++;
  } else if (buf[i] === 0x2b) i++;
  let mantissa = 0;
  let scale = 1;
  let digits = 0;
  let dot = false;
  for (; i < end; i++) {
    const c = buf[i] as number;
    if (c >= 0x30 && c <= 0x39) {
      mantissa = mantissa * 10 + (c - 0x30);
      if (dot) scale *= 10;
      digits++;
    } else if (c === 0x2e && !dot) dot = true;
    else return NaN;
  }
  if (digits === 0) return NaN;
  // One division of two exact integers: the nearest double to the decimal written.
  return (sign * mantissa) / scale;
}

/** Length of the longest prefix of GBK bytes that fits in `max` bytes without splitting a character. */
function gbkFit(bytes: Buffer, max: number): number {
  let i = 0;
  while (i < max) {
    const step = (bytes[i] as number) >= 0x81 ? 2 : 1;
    if (i + step > max) break;
    i += step;
  }
  return i;
}

function writeText(buf: Buffer, at: number, f: FieldSpec, value: string, layout: DbfLayout): void {
  const n = value.length;
  let ascii = n <= f.length;
  if (ascii) {
    for (let i = 0; i < n; i++) {
      if (value.charCodeAt(i) >= 0x80) {
        ascii = false;
        break;
      }
    }
  }
  if (ascii) {
    buf.write(value, at, n, 'latin1');
    buf.fill(SPACE, at + n, at + f.length);
    return;
  }
  const bytes = iconv.encode(value, TEXT_ENCODING);
  let k = bytes.length;
  if (k > f.length) {
    if (!f.text)
      throw new DbfValueError(
        layout.name,
        f.name,
        `${JSON.stringify(value)} is ${k} bytes, the field holds ${f.length}`,
      );
    k = gbkFit(bytes, f.length); // free text is cut, at a character boundary
  }
  bytes.copy(buf, at, 0, k);
  buf.fill(SPACE, at + k, at + f.length);
}

function writeNumber(buf: Buffer, at: number, f: FieldSpec, value: number, layout: DbfLayout): void {
  const bad = (why: string): never => {
    throw new DbfValueError(layout.name, f.name, `${value} ${why}`);
  };
  if (typeof value !== 'number' || !Number.isFinite(value)) bad('is not a finite number');
  const p = POW10[f.decimals] ?? bad('has a decimals count the codec does not handle');
  const exact = Math.abs(value) * p;
  let scaled = Math.round(exact);
  if (!Number.isSafeInteger(scaled)) bad('is too large');
  if (Math.abs(exact - scaled) > 1e-6) bad(`has more than ${f.decimals} decimal places`);
  const negative = value < 0 && scaled > 0;
  let pos = at + f.length;
  for (let d = 0; d < f.decimals; d++) {
    buf[--pos] = 0x30 + (scaled % 10);
    scaled = Math.floor(scaled / 10);
  }
  if (f.decimals > 0) buf[--pos] = 0x2e;
  do {
    if (pos <= at) bad(`does not fit in ${f.length} characters`);
    buf[--pos] = 0x30 + (scaled % 10);
    scaled = Math.floor(scaled / 10);
  } while (scaled > 0);
  if (negative) {
    if (pos <= at) bad(`does not fit in ${f.length} characters`);
    buf[--pos] = 0x2d;
  }
  buf.fill(SPACE, at, pos);
}

/** Writes one record (deletion flag + fields) at `base`. Throws DbfValueError before anything is on disk. */
export function encodeRecord(
  layout: DbfLayout,
  row: object,
  buf: Buffer,
  base: number,
  deleted = false,
): void {
  const values = row as Record<string, unknown>;
  buf[base] = deleted ? FLAG_DELETED : FLAG_LIVE;
  for (const f of layout.fields) {
    const v = values[f.name];
    if (f.type === 'N') {
      writeNumber(buf, base + f.offset, f, v as number, layout);
    } else {
      if (typeof v !== 'string')
        throw new DbfValueError(layout.name, f.name, `expected a string, got ${typeof v}`);
      if (f.values && !f.values.includes(v))
        throw new DbfValueError(
          layout.name,
          f.name,
          `${JSON.stringify(v)} is not one of ${f.values.join(' ')}`,
        );
      writeText(buf, base + f.offset, f, v, layout);
    }
  }
}

/**
 * Reads the fields of one record at `base` (the caller has looked at the deletion flag).
 * `path` and `recNo` only serve the DbfFieldError thrown on garbage.
 */
export function decodeRecord(
  layout: DbfLayout,
  buf: Buffer,
  base: number,
  path: string,
  recNo: number,
): Record<string, string | number> {
  // Properties are added in the same order every time, so every row shares one hidden class.
  const row: Record<string, string | number> = {};
  for (const f of layout.fields) {
    const at = base + f.offset;
    if (f.type === 'N') {
      const n = readNumber(buf, at, f.length);
      if (Number.isNaN(n))
        throw new DbfFieldError(path, recNo, f.name, buf.toString('latin1', at, at + f.length));
      row[f.name] = n;
    } else {
      const s = readText(buf, at, f.length);
      if (f.values && !f.values.includes(s)) throw new DbfFieldError(path, recNo, f.name, s);
      row[f.name] = s;
    }
  }
  return row;
}

export function encodeOrder(row: OrderRow, buf: Buffer, base: number, deleted = false): void {
  encodeRecord(NQWT, row, buf, base, deleted);
}
/**
 * An order as the broker's program wrote it, or a DbfFieldError: every field must parse completely
 * (strict-order.ts). An order is never sent with a value guessed from bytes that are not one.
 */
export function decodeOrder(buf: Buffer, base: number, path = NQWT.fileName, recNo = 0): OrderRow {
  return decodeOrderStrict(buf, base, path, recNo);
}
export function encodeReturn(row: ReturnRow, buf: Buffer, base: number, deleted = false): void {
  encodeRecord(NQHB, row, buf, base, deleted);
}
export function decodeReturn(buf: Buffer, base: number, path = NQHB.fileName, recNo = 0): ReturnRow {
  return decodeRecord(NQHB, buf, base, path, recNo) as unknown as ReturnRow;
}

/** The records of `rows` as one Buffer, ready for a single write. */
export function encodeRows(layout: DbfLayout, rows: readonly object[], trailer?: number): Buffer {
  const extra = trailer === undefined ? 0 : 1;
  const buf = Buffer.allocUnsafe(rows.length * layout.recordLength + extra);
  rows.forEach((r, i) => encodeRecord(layout, r, buf, i * layout.recordLength));
  if (trailer !== undefined) buf[buf.length - 1] = trailer;
  return buf;
}

/**
 * A return row as the writer takes it: a fill price or quantity may be null, "no value", written
 * as a blank field. The gateway writes a blank where the main station sent a number that does not
 * fit (docs/interface.md, "A return the gateway cannot write as sent"); a false 0 would look real.
 */
export type ReturnRecord = Omit<ReturnRow, 'CJJG' | 'CJSL'> & { CJJG: number | null; CJSL: number | null };

const RETURN_NUMBERS = NQHB.fields.filter((f) => f.type === 'N' && f.name !== 'HBXH');

/** The records of return rows as one Buffer (plus `trailer`), nulls written as blank numbers. */
export function encodeReturnRows(rows: readonly ReturnRecord[], trailer?: number): Buffer {
  const R = NQHB.recordLength;
  const extra = trailer === undefined ? 0 : 1;
  const buf = Buffer.allocUnsafe(rows.length * R + extra);
  rows.forEach((r, i) => {
    const base = i * R;
    if (r.CJJG !== null && r.CJSL !== null) {
      encodeRecord(NQHB, r, buf, base);
      return;
    }
    encodeRecord(NQHB, { ...r, CJJG: r.CJJG ?? 0, CJSL: r.CJSL ?? 0 }, buf, base);
    for (const f of RETURN_NUMBERS) {
      if ((r as Record<string, unknown>)[f.name] === null)
        buf.fill(SPACE, base + f.offset, base + f.offset + f.length);
    }
  });
  if (trailer !== undefined) buf[buf.length - 1] = trailer;
  return buf;
}

/** Whether `value` can be written in the numeric field `f` exactly (finite, fits, no extra decimals). */
const FIT_SCRATCH = Buffer.alloc(32);
export function numberFits(f: FieldSpec, value: number): boolean {
  try {
    writeNumber(FIT_SCRATCH, 32 - f.length, f, value, NQHB);
    return true;
  } catch (err) {
    if (err instanceof DbfValueError) return false;
    throw err;
  }
}

/** Bytes `value` takes in GBK, and whether GBK holds it unchanged (no character turned into '?'). */
export function gbkLength(value: string): { bytes: number; exact: boolean } {
  let ascii = true;
  for (let i = 0; i < value.length; i++) {
    if (value.charCodeAt(i) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) return { bytes: value.length, exact: true };
  const bytes = iconv.encode(value, TEXT_ENCODING);
  return { bytes: bytes.length, exact: iconv.decode(bytes, TEXT_ENCODING) === value };
}
