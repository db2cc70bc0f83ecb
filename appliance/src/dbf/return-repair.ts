import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { fsyncDir } from '../shared/index.js';
import { decodeReturn } from './codec.js';
import {
  DbfFieldError,
  WARN_BAD_FLAG,
  WARN_COUNT_PAST_END,
  WARN_REPAIRED,
  type DbfWarning,
} from './errors.js';
import { dateAndCount, DATE_AND_COUNT_OFFSET, readHeader } from './header.js';
import { readAt, writeAt } from './io.js';
import { EOF_MARKER, FLAG_DELETED, FLAG_LIVE, NQHB, type ReturnKind } from './schema.js';

/**
 * Start-of-day look at NQHB.DBF: one pass over every record (the file is today's returns, read
 * once at open) that finds the last sequence, a record of another day, and whatever a crash of
 * the writer left at the end, and puts the end right. Returns lost by the repair are not lost:
 * they were never acknowledged, so the main station sends them again after logon.
 */
export interface ReturnFileState {
  headerLength: number;
  /** Whole records kept (deleted ones included): where the next append goes. */
  count: number;
  /** Highest HBXH in the file, 0 if none. */
  lastSeq: number;
  /** HBRQ of the first live record that is not `today`, or null if all are today's. */
  otherDate: string | null;
  /** Live records by 回报类别 (HBLB), for the status screen's counters. */
  kinds: Record<ReturnKind, number>;
}

const CHUNK = 4096;

export async function scanAndRepair(
  fh: FileHandle,
  file: string,
  today: string,
  warnings: DbfWarning[],
): Promise<ReturnFileState> {
  const info = await readHeader(fh, file, NQHB);
  const H = info.headerLength;
  const R = NQHB.recordLength;
  const { size } = await fh.stat();
  const whole = Math.floor((size - H) / R);
  const buf = Buffer.alloc(CHUNK * R);
  let lastSeq = 0;
  let prevSeq = 0;
  let otherDate: string | null = null;
  const kinds: Record<ReturnKind, number> = { '0': 0, '1': 0, '2': 0, '3': 0, '': 0 };
  /** Records up to here are sound; anything after them is a torn tail. */
  let sound = 0;
  const suspects: DbfWarning[] = [];
  for (let first = 1; first <= whole; first += CHUNK) {
    const n = Math.min(CHUNK, whole - first + 1);
    await readAt(fh, buf, n * R, H + (first - 1) * R);
    for (let i = 0; i < n; i++) {
      const recNo = first + i;
      const flag = buf[i * R];
      if (flag !== FLAG_LIVE && flag !== FLAG_DELETED) {
        suspects.push({
          recNo,
          code: WARN_BAD_FLAG,
          message: `${file} record ${recNo}: deletion flag 0x${(flag ?? 0).toString(16)} is neither ' ' nor '*'`,
        });
        continue;
      }
      let row;
      try {
        row = decodeReturn(buf, i * R, file, recNo);
      } catch (err) {
        if (!(err instanceof DbfFieldError)) throw err;
        suspects.push({ recNo, code: err.code, message: err.message });
        continue;
      }
      // Bad records followed by a sound one are damage in the middle: reported, kept.
      warnings.push(...suspects.splice(0));
      sound = recNo;
      lastSeq = Math.max(lastSeq, row.HBXH);
      if (flag === FLAG_LIVE) {
        if (row.HBXH !== prevSeq + 1) {
          warnings.push({
            recNo,
            code: 'NQ509',
            message: `${file} record ${recNo}: HBXH ${row.HBXH} follows ${prevSeq}`,
          });
        }
        prevSeq = row.HBXH;
        kinds[row.HBLB]++;
        if (otherDate === null && row.HBRQ !== today) otherDate = row.HBRQ;
      }
    }
  }
  const repaired: string[] = [];
  if (sound < whole)
    repaired.push(`${whole - sound} damaged record(s) at the end (from record ${sound + 1}) removed`);
  const tail = size - H - whole * R;
  let eofOk = false;
  if (sound === whole && tail === 1) {
    const one = Buffer.alloc(1);
    await readAt(fh, one, 1, size - 1);
    eofOk = one[0] === EOF_MARKER;
  }
  if (!eofOk) {
    if (tail > 1 || (tail === 1 && sound === whole))
      repaired.push(`a half-written record (${tail} bytes) removed`);
    else if (sound === whole) repaired.push('missing 0x1A end-of-file byte restored');
    await fh.truncate(H + sound * R);
    await writeAt(fh, Buffer.from([EOF_MARKER]), H + sound * R);
  }
  if (info.recordCount !== sound) {
    if (info.recordCount > sound) {
      warnings.push({
        code: WARN_COUNT_PAST_END,
        message: `${file}: the header said ${info.recordCount} records, the file holds ${sound}; count corrected`,
      });
    } else repaired.push(`header count ${info.recordCount} lagged, set to ${sound}`);
    await writeAt(fh, dateAndCount(today, sound), DATE_AND_COUNT_OFFSET);
  }
  for (const r of repaired) warnings.push({ code: WARN_REPAIRED, message: `${file}: ${r}` });
  if (repaired.length > 0 || info.recordCount !== sound) await fh.sync();
  return { headerLength: H, count: sound, lastSeq, otherDate, kinds };
}

/**
 * Moves a return file of another day aside as NQHB.<date>.DBF. Never overwrites: link() fails
 * on an existing name, so a second archive of the same day gets a numbered suffix.
 */
export async function archiveReturnFile(file: string, date: string): Promise<string> {
  const ext = path.extname(file);
  const stem = path.join(path.dirname(file), path.basename(file, ext));
  const tag = /^\d{8}$/.test(date) ? date : date.replace(/[^0-9A-Za-z]/g, '') || 'undated';
  for (let i = 0; ; i++) {
    const target = `${stem}.${tag}${i === 0 ? '' : `.${i}`}${ext}`;
    try {
      await fsp.link(file, target);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV') throw err;
      // No hard links here: check then rename (not atomic, but nobody else archives this file).
      if (await exists(target)) continue;
      await fsp.rename(file, target);
      await fsyncDir(path.dirname(file));
      return target;
    }
    await fsp.unlink(file);
    await fsyncDir(path.dirname(file));
    return target;
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await fsp.lstat(p);
    return true;
  } catch {
    return false;
  }
}
