import { promises as fsp } from 'node:fs';
import { readHeader } from './header.js';
import { readAt } from './io.js';
import { lenientText } from './order-verdict.js';
import { NQWT } from './schema.js';

/** One record of NQWT.DBF as it stands, read leniently (it may be garbage): for listings. */
export interface PeekedRecord {
  recNo: number;
  /** ' ' live, '*' deleted, else the byte as \xNN; '' when the record is not in the file. */
  flag: string;
  unit: string;
  serial: string;
  clbz: string;
}

function byteWord(b: number | undefined): string {
  if (b === undefined) return '';
  return b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
}

/**
 * The given records of NQWT.DBF, opened read-only (safe while the gateway runs): flag, unit,
 * serial number and CLBZ as they are now. The header is checked (DbfFormatError if it lies).
 */
export async function peekOrderRecords(file: string, recNos: readonly number[]): Promise<PeekedRecord[]> {
  const fh = await fsp.open(file, 'r');
  try {
    const { headerLength } = await readHeader(fh, file, NQWT);
    const R = NQWT.recordLength;
    const rec = Buffer.alloc(R);
    const out: PeekedRecord[] = [];
    for (const recNo of recNos) {
      const got = await readAt(fh, rec, R, headerLength + (recNo - 1) * R);
      if (got < R) {
        out.push({ recNo, flag: '', unit: '', serial: '', clbz: '' });
        continue;
      }
      out.push({
        recNo,
        flag: byteWord(rec[0]),
        unit: lenientText(rec, NQWT.offsetOf('JYDY'), 6),
        serial: lenientText(rec, NQWT.offsetOf('LSH'), 10),
        clbz: byteWord(rec[NQWT.offsetOf('CLBZ')]),
      });
    }
    return out;
  } finally {
    await fh.close();
  }
}
