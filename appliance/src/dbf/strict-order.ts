import iconv from 'iconv-lite';
import { DbfFieldError } from './errors.js';
import { NQWT, TEXT_ENCODING, type FieldSpec, type OrderRow } from './schema.js';

/**
 * The strict decoder of one NQWT.DBF record: an order goes out only if every field parses
 * completely. No value is guessed: a blank price or quantity is not 0, a field with a control
 * byte is not text, a number with more decimals than declared is not that number. The return
 * file's decoder (codec.ts) keeps dBase's lenient reading; this one is for what we send.
 *
 * It runs for every order at 20,000+ a second: one pass over each field's bytes, no regular
 * expression and no intermediate string for numbers, offsets taken once from the schema.
 */

const SPACE = 0x20;
const NUL = 0x00;
const DOT = 0x2e;
const MINUS = 0x2d;
const PLUS = 0x2b;

/** Fields that hold a code made of digits only, the whole field wide (a date, a time). */
const ALL_DIGITS = new Set(['WTRQ', 'WTSJ']);

interface Plan {
  f: FieldSpec;
  digits: boolean;
}
const PLAN: readonly Plan[] = NQWT.fields.map((f) => ({ f, digits: ALL_DIGITS.has(f.name) }));

/** Trailing spaces and NULs (padding some writers use) are not part of a value. */
function valueEnd(buf: Buffer, start: number, end: number): number {
  while (end > start) {
    const b = buf[end - 1];
    if (b !== SPACE && b !== NUL) break;
    end--;
  }
  return end;
}

/** Why the last strictNumber call refused its field (read only after it returned -1). */
let refusal = '';

/**
 * The value of the number in the field, in one pass, or -1 (a valid order number is never
 * negative) with `refusal` saying why: blank, signed, not a number, too many decimals, too long.
 */
function strictNumber(buf: Buffer, start: number, f: FieldSpec): number {
  const end = valueEnd(buf, start, start + f.length);
  let i = start;
  while (i < end && buf[i] === SPACE) i++;
  if (i === end) return refused('blank: a price or quantity must be written, it is never taken as 0');
  const first = buf[i];
  if (first === MINUS) return refused('negative');
  if (first === PLUS) return refused('a sign dBase does not write');
  let digits = 0;
  let decimals = 0;
  let dot = false;
  let mantissa = 0;
  let scale = 1;
  for (; i < end; i++) {
    const c = buf[i] as number;
    if (c >= 0x30 && c <= 0x39) {
      mantissa = mantissa * 10 + (c - 0x30);
      digits++;
      if (dot) {
        decimals++;
        scale *= 10;
      }
    } else if (c === DOT && !dot) dot = true;
    else return refused(c < SPACE || c === 0x7f ? 'a control byte' : 'not a number');
  }
  if (digits === 0) return refused('not a number');
  if (decimals > f.decimals) return refused(`more than ${f.decimals} decimal places`);
  if (!Number.isSafeInteger(mantissa)) return refused('more digits than can be held exactly');
  // One division of two exact integers: the nearest double to the decimal written.
  return mantissa / scale;
}

function refused(why: string): number {
  refusal = why;
  return -1;
}

/** What the bytes of a field show, for the operator: control bytes as \xNN. */
function rawForMessage(buf: Buffer, start: number, length: number): string {
  let s = '';
  for (let i = start; i < start + length; i++) {
    const c = buf[i] as number;
    s += c < SPACE || c >= 0x7f ? `\\x${c.toString(16).padStart(2, '0')}` : String.fromCharCode(c);
  }
  return s;
}

function refuse(buf: Buffer, path: string, recNo: number, f: FieldSpec, at: number, why: string): never {
  throw new DbfFieldError(path, recNo, f.name, rawForMessage(buf, at, f.length), why, true);
}

export function decodeOrderStrict(buf: Buffer, base: number, path: string, recNo: number): OrderRow {
  // Properties are added in the same order every time, so every row shares one hidden class.
  const row: Record<string, string | number> = {};
  for (const { f, digits } of PLAN) {
    const at = base + f.offset;
    if (f.type === 'N') {
      const value = strictNumber(buf, at, f);
      if (value < 0) refuse(buf, path, recNo, f, at, refusal);
      row[f.name] = value;
      continue;
    }
    const end = valueEnd(buf, at, at + f.length);
    let wide = false;
    for (let i = at; i < end; i++) {
      const c = buf[i] as number;
      if (c < SPACE || c === 0x7f) refuse(buf, path, recNo, f, at, 'a control byte');
      if (digits && (c < 0x30 || c > 0x39)) refuse(buf, path, recNo, f, at, 'not all digits');
      if (c >= 0x80) wide = true;
    }
    if (digits && end - at !== f.length) refuse(buf, path, recNo, f, at, `not ${f.length} digits`);
    row[f.name] = wide ? iconv.decode(buf.subarray(at, end), TEXT_ENCODING) : buf.toString('latin1', at, end);
  }
  return row as unknown as OrderRow;
}
