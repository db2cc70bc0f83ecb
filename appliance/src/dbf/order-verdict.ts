import iconv from 'iconv-lite';
import { decodeOrder } from './codec.js';
import { DbfFieldError, UNSENT_BLANK, WARN_BAD_FLAG } from './errors.js';
import { EOF_MARKER, FLAG_DELETED, FLAG_LIVE, NQWT, TEXT_ENCODING, type OrderRow } from './schema.js';

/**
 * What one NQWT.DBF record is, looked at once: an order to hand on, a deleted record, a record
 * still being written (to wait for), or a record that is not an order (never sent). The reader
 * (order-reader.ts) decides what to do with each; this file only looks at bytes.
 */

/** A record the gateway will not send, with what is known of it. */
export interface UnsentRecord {
  recNo: number;
  /** NQ503 a field is not a value, NQ505 a bad deletion flag, NQ522 a blank record never filled in. */
  code: string;
  /** Why, in words, for the alert and `nqgw orders --unsent`. */
  text: string;
  /** JYDY and LSH as far as they can be read (the record may be garbage). */
  unit: string;
  serial: string;
}

export type Verdict =
  | { kind: 'order'; row: OrderRow }
  | { kind: 'deleted' }
  /** Maybe mid-write: blank, flag byte not yet set, or CLBZ not yet set (then `row` is whole). */
  | { kind: 'unfinished'; why: string; row?: OrderRow; bad?: { code: string; text: string } }
  | { kind: 'bad'; code: string; text: string };

const SPACE = 0x20;
const NUL = 0x00;
const CLBZ_AT = NQWT.offsetOf('CLBZ');
const R = NQWT.recordLength;

/** Every byte after the flag is a space or a NUL: appended blank, to be filled in. */
export function isBlank(buf: Buffer, base: number): boolean {
  for (let i = base + 1; i < base + R; i++) {
    const c = buf[i];
    if (c !== SPACE && c !== NUL) return false;
  }
  return true;
}

/**
 * The order of a live record whose fields all parse and whose CLBZ is set, else null (the
 * caller then asks judgeRecord why). The hot path: one decode, no verdict object.
 */
export function orderOrNull(buf: Buffer, base: number, path: string, recNo: number): OrderRow | null {
  const clbz = buf[base + CLBZ_AT];
  if (clbz === SPACE || clbz === NUL) return null;
  try {
    return decodeOrder(buf, base, path, recNo);
  } catch (err) {
    if (err instanceof DbfFieldError) return null;
    throw err;
  }
}

export function judgeRecord(buf: Buffer, base: number, path: string, recNo: number): Verdict {
  const flag = buf[base];
  if (flag === FLAG_DELETED) return { kind: 'deleted' };
  if (flag === FLAG_LIVE) {
    let row: OrderRow;
    try {
      row = decodeOrder(buf, base, path, recNo);
    } catch (err) {
      if (!(err instanceof DbfFieldError)) throw err;
      if (isBlank(buf, base)) return blank(recNo);
      // Possibly a record being filled in field by field: waited for before it is judged.
      return { kind: 'unfinished', why: err.message, bad: { code: err.code, text: err.message } };
    }
    const clbz = buf[base + CLBZ_AT];
    if (clbz === SPACE || clbz === NUL) return { kind: 'unfinished', why: 'CLBZ not yet set', row };
    return { kind: 'order', row };
  }
  if (isBlank(buf, base)) return blank(recNo);
  const text = `${path} record ${recNo}: deletion flag is 0x${(flag ?? 0).toString(16).padStart(2, '0')}, neither ' ' nor '*'`;
  // 0x00 or the old 0x1A: a writer that sets the flag byte last may be mid-way.
  if (flag === NUL || flag === EOF_MARKER)
    return { kind: 'unfinished', why: 'flag byte not yet set', bad: { code: WARN_BAD_FLAG, text } };
  return { kind: 'bad', code: WARN_BAD_FLAG, text };
}

function blank(recNo: number): Verdict {
  return {
    kind: 'unfinished',
    why: 'blank record',
    bad: { code: UNSENT_BLANK, text: `记录为空 (record ${recNo} was appended blank and not filled in)` },
  };
}

/** A text field as far as it can be read, control bytes dropped: for messages, never for sending. */
export function lenientText(buf: Buffer, at: number, length: number): string {
  const bytes: number[] = [];
  for (let i = at; i < at + length; i++) {
    const c = buf[i] as number;
    if (c >= SPACE && c !== 0x7f) bytes.push(c);
  }
  return iconv.decode(Buffer.from(bytes), TEXT_ENCODING).trim();
}

export function unsentOf(buf: Buffer, base: number, recNo: number, code: string, text: string): UnsentRecord {
  return {
    recNo,
    code,
    text,
    unit: lenientText(buf, base + NQWT.offsetOf('JYDY'), 6),
    serial: lenientText(buf, base + NQWT.offsetOf('LSH'), 10),
  };
}
