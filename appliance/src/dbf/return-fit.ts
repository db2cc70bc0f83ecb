import { gbkLength, numberFits, type ReturnRecord } from './codec.js';
import { NQHB, type FieldSpec } from './schema.js';

/**
 * A return from the main station made to fit NQHB.DBF. HBXH must run 1, 2, 3 ... with no gap, so
 * a row held back would stop every row after it for the rest of the day: the gateway writes every
 * row, with what fits, and reports the rest (docs/interface.md, "A return the gateway cannot
 * write as sent"). The rules, field by field:
 *
 * - a code field (every C field but the free text CWXX) whose value is not a string, holds a
 *   control character, does not fit its width in GBK or has a character GBK cannot hold is
 *   written blank: a cut or altered code would be another code;
 * - HBRQ that is missing, not YYYYMMDD or another day is written as the file's trading day (a
 *   row of another day in NQHB.DBF would make the next start refuse the file, NQ203; returns
 *   dated after the trading day never get here: the day guard keeps them for the next day);
 * - a number (CJJG, CJSL) that is not a finite number, is too wide or has too many decimals is
 *   written blank ("no value"), never 0, which would look like a real price or quantity;
 * - in the free text CWXX control characters become spaces, and text longer than the field is
 *   cut at a character boundary (as before); a CWXX that is not a string is written blank.
 *
 * - HBLB that is not one of the strings '0' '1' '2' '3' is written blank: the counter program
 *   keys on it, and any of the four would tell it something the main station did not say (a
 *   blank HBLB is the project's own modelled value for "unknown kind", see docs/interface.md).
 *
 * HBXH is checked by the link before a return gets here (one that is not a whole number from 1
 * to 999999999999 cannot be placed in the file: a protocol error, NQ542), and it is the sink's
 * to judge against the file.
 */

/** One field not written as the main station sent it. */
export interface ReturnFieldIssue {
  field: string;
  /** What the main station sent (undefined when the field was missing). */
  raw: unknown;
  /** What went into NQHB.DBF ('' or null: blank). */
  written: string | number | null;
  /** 'blanked': an unfit value replaced; 'filled': HBRQ set to the trading day; 'cleaned': control characters in free text replaced by spaces. */
  kind: 'blanked' | 'filled' | 'cleaned';
  why: string;
}

export interface FittedReturn {
  row: ReturnRecord;
  issues: ReturnFieldIssue[];
}

/** C0 controls, DEL and C1 controls: never written into a text field of NQHB.DBF. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const CONTROL_ALL = /[\u0000-\u001f\u007f-\u009f]/g;
const DATE = /^\d{8}$/;
/** The kinds of return the main station may send (HBLB); '' is only ever written for an unknown one. */
const RETURN_KINDS: readonly string[] = ['0', '1', '2', '3'];

function textProblem(f: FieldSpec, v: unknown): string | null {
  if (typeof v !== 'string') return v === undefined ? 'missing' : `not a string (${typeof v})`;
  // One pass over the characters: the common case (short ASCII codes) ends here.
  let ascii = true;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return 'holds control characters';
    if (c >= 0x80) ascii = false;
  }
  if (ascii) return v.length > f.length ? `${v.length} bytes, the field holds ${f.length}` : null;
  const { bytes, exact } = gbkLength(v);
  if (!exact) return 'holds characters GBK cannot represent';
  if (bytes > f.length) return `${bytes} bytes, the field holds ${f.length}`;
  return null;
}

function numberProblem(f: FieldSpec, v: unknown): string | null {
  if (typeof v !== 'number') return v === undefined ? 'missing' : `not a number (${typeof v})`;
  if (!numberFits(f, v)) return `does not fit N(${f.length},${f.decimals})`;
  return null;
}

/** `body`: a return as received (fields typed unknown: the main station is not trusted). */
export function fitReturn(body: Readonly<Record<string, unknown>>, tradingDate: string): FittedReturn {
  const issues: ReturnFieldIssue[] = [];
  const row: Record<string, string | number | null> = {};
  for (const f of NQHB.fields) {
    const v = body[f.name];
    if (f.name === 'HBXH') {
      row[f.name] = v as number;
      continue;
    }
    if (f.name === 'HBLB') {
      const known = typeof v === 'string' && RETURN_KINDS.includes(v);
      row[f.name] = known ? v : '';
      if (!known) {
        const why = typeof v === 'string' ? `not one of ${RETURN_KINDS.join(' ')}` : textProblem(f, v)!;
        issues.push({ field: f.name, raw: v, written: '', kind: 'blanked', why });
      }
      continue;
    }
    if (f.type === 'N') {
      const why = numberProblem(f, v);
      row[f.name] = why === null ? (v as number) : null;
      if (why !== null) issues.push({ field: f.name, raw: v, written: null, kind: 'blanked', why });
      continue;
    }
    if (f.text) {
      if (typeof v !== 'string') {
        row[f.name] = '';
        issues.push({ field: f.name, raw: v, written: '', kind: 'blanked', why: textProblem(f, v) ?? '' });
      } else if (CONTROL.test(v)) {
        const clean = v.replace(CONTROL_ALL, ' ');
        row[f.name] = clean;
        issues.push({
          field: f.name,
          raw: v,
          written: clean,
          kind: 'cleaned',
          why: 'control characters replaced by spaces',
        });
      } else row[f.name] = v; // the encoder cuts it to the field at a character boundary
      continue;
    }
    let why = textProblem(f, v);
    if (f.name === 'HBRQ') {
      if (why === null && !DATE.test(v as string)) why = v === '' ? 'blank' : 'not YYYYMMDD';
      // Another day's date would make the next start refuse (or archive) today's file (NQ203).
      else if (why === null && v !== tradingDate) why = `dated ${v as string}, not the file's day`;
      row[f.name] = why === null ? (v as string) : tradingDate;
      if (why !== null) issues.push({ field: f.name, raw: v, written: tradingDate, kind: 'filled', why });
      continue;
    }
    row[f.name] = why === null ? (v as string) : '';
    if (why !== null) issues.push({ field: f.name, raw: v, written: '', kind: 'blanked', why });
  }
  return { row: row as unknown as ReturnRecord, issues };
}
