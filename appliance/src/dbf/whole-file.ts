import { promises as fsp } from 'node:fs';
import { DBFFile, DELETED } from 'dbffile';
import { DbfFieldError } from './errors.js';
import { readHeader } from './header.js';
import { OrderFileReader } from './order-reader.js';
import { NQHB, TEXT_ENCODING, type OrderRow, type ReturnRow } from './schema.js';

/**
 * Whole-file readers for tools and tests; the gateway itself uses the incremental reader and the
 * writer.
 */

/**
 * Every live, readable record of NQWT.DBF in file order, by the same rules as the gateway's
 * reader (file size, not header count). Deleted records and records that are not orders (a field
 * that is not a value, a bad flag byte, blank) are left out; use OrderFileReader to see them.
 */
export async function readOrderFile(file: string): Promise<OrderRow[]> {
  // Records are judged at once (a tool takes the file as it is now); a partial tail is a write
  // under way, never an alarm here: the records before it are returned if seen whole at open.
  const reader = new OrderFileReader(file, { readOnly: true, settleMs: 0, tailMs: Number.POSITIVE_INFINITY });
  await reader.open();
  const rows: OrderRow[] = [];
  try {
    for (;;) {
      const before = reader.nextRecNo;
      const batch = await reader.readNew();
      for (const r of batch.records) rows.push(r.row);
      if (reader.nextRecNo === before) break; // nothing more, or a last record still being written
    }
  } finally {
    await reader.close();
  }
  return rows;
}

/**
 * Every live record of NQHB.DBF, read by dbffile, an independent dBase library: what the
 * broker's side reads is checked with a reader that is not our own encoder's mirror image.
 * dbffile trusts the header count, which is right for this file: our writer keeps it exact.
 */
export async function readReturnFile(file: string): Promise<ReturnRow[]> {
  const fh = await fsp.open(file, 'r');
  try {
    await readHeader(fh, file, NQHB); // our check first, for a DbfFormatError that says what is wrong
  } finally {
    await fh.close();
  }
  // Deleted records are read too, so that positions (and record numbers in errors) stay true.
  const dbf = await DBFFile.open(file, { encoding: TEXT_ENCODING, includeDeletedRecords: true });
  const records = await dbf.readRecords();
  const rows: ReturnRow[] = [];
  records.forEach((rec, i) => {
    if (rec[DELETED]) return;
    const row: Record<string, string | number> = {};
    for (const f of NQHB.fields) {
      const v = rec[f.name];
      if (f.type === 'N') {
        const n = v === null || v === undefined ? 0 : v;
        if (typeof n !== 'number' || Number.isNaN(n)) throw new DbfFieldError(file, i + 1, f.name, String(v));
        row[f.name] = n;
      } else {
        const s = typeof v === 'string' ? v : '';
        if (f.values && !f.values.includes(s)) throw new DbfFieldError(file, i + 1, f.name, s);
        row[f.name] = s;
      }
    }
    rows.push(row as unknown as ReturnRow);
  });
  return rows;
}
