import type { FileHandle } from 'node:fs/promises';
import { DbfFormatError } from './errors.js';
import {
  DBF_VERSION,
  HEADER_TERMINATOR,
  LANGUAGE_DRIVER_GBK,
  type DbfLayout,
  type FieldSpec,
} from './schema.js';

/**
 * The dBase III header: 32 bytes of file facts, 32 bytes per field, 0x0D. Built from a layout
 * when we create a file; checked against a layout when we open one, so that a wrong path or a
 * changed layout stops the gateway with a message instead of sending garbage orders.
 */

/** Byte offsets inside the 32-byte file header. */
const OFF_DATE = 1; // YY MM DD, YY = year - 1900
const OFF_COUNT = 4; // uint32 LE
const OFF_HEADER_LEN = 8; // uint16 LE
const OFF_RECORD_LEN = 10; // uint16 LE
const OFF_LANGUAGE = 29;
const DESCRIPTOR = 32;
/** 255 fields is the dBase III ceiling; a header longer than that is not one we could check. */
const MAX_HEADER = 32 + 32 * 255 + 2;

export interface HeaderInfo {
  /** Records per the header. Lags while the broker appends; may even run ahead after a crash. */
  recordCount: number;
  /** Where record 1 starts. At least layout.headerLength; some writers put a 0x00 after 0x0D. */
  headerLength: number;
  recordLength: number;
  languageDriver: number;
}

/** The 7 bytes at offset 1..7 (date of last update and record count), written together. */
export function dateAndCount(dateYmd: string, count: number): Buffer {
  const b = Buffer.alloc(7);
  writeDate(b, 0, dateYmd);
  b.writeUInt32LE(count, 3);
  return b;
}
export const DATE_AND_COUNT_OFFSET = OFF_DATE;
export const COUNT_OFFSET = OFF_COUNT;

function writeDate(b: Buffer, at: number, ymd: string): void {
  const y = Number(ymd.slice(0, 4));
  const m = Number(ymd.slice(4, 6));
  const d = Number(ymd.slice(6, 8));
  // A malformed date must not stop a write: the header date is informative only.
  const ok = /^\d{8}$/.test(ymd) && y >= 1900 && y <= 2155;
  b[at] = ok ? y - 1900 : 0;
  b[at + 1] = ok ? m : 1;
  b[at + 2] = ok ? d : 1;
}

/** A complete empty-file header for `layout`: file header, descriptors, 0x0D. */
export function buildHeader(layout: DbfLayout, recordCount: number, dateYmd: string): Buffer {
  const b = Buffer.alloc(layout.headerLength);
  b[0] = DBF_VERSION;
  writeDate(b, OFF_DATE, dateYmd);
  b.writeUInt32LE(recordCount, OFF_COUNT);
  b.writeUInt16LE(layout.headerLength, OFF_HEADER_LEN);
  b.writeUInt16LE(layout.recordLength, OFF_RECORD_LEN);
  b[OFF_LANGUAGE] = LANGUAGE_DRIVER_GBK;
  layout.fields.forEach((f, i) => {
    const at = DESCRIPTOR + 32 * i;
    b.write(f.name, at, 10, 'latin1'); // 11 bytes, zero padded (alloc zeroed them)
    b[at + 11] = f.type.charCodeAt(0);
    b[at + 16] = f.length;
    b[at + 17] = f.decimals;
  });
  b[layout.headerLength - 1] = HEADER_TERMINATOR;
  return b;
}

function describe(f: { name: string; type: string; length: number; decimals: number }): string {
  return f.type === 'N' ? `${f.name} N(${f.length},${f.decimals})` : `${f.name} ${f.type}(${f.length})`;
}

/**
 * Checks a header read from disk against `layout`. `fileSize` tells a truncated header from a
 * wrong one. Throws DbfFormatError naming the first things that differ.
 */
export function checkHeader(buf: Buffer, fileSize: number, path: string, layout: DbfLayout): HeaderInfo {
  const what = `${layout.fileName} (${layout.description})`;
  const fail = (problem: string): never => {
    throw new DbfFormatError(path, problem, what);
  };
  if (fileSize < 32 || buf.length < 32)
    fail(`the file is ${fileSize} bytes, shorter than a dBase header (32 bytes)`);
  const version = buf[0] ?? 0;
  if (version !== DBF_VERSION) {
    fail(
      `version byte is 0x${version.toString(16).padStart(2, '0')}, expected 0x03 (dBase III without memo)`,
    );
  }
  const headerLength = buf.readUInt16LE(OFF_HEADER_LEN);
  const recordLength = buf.readUInt16LE(OFF_RECORD_LEN);
  if (headerLength < layout.headerLength) {
    fail(
      `header length is ${headerLength} bytes, the ${layout.fields.length} fields need ${layout.headerLength}`,
    );
  }
  if (fileSize < headerLength || buf.length < layout.headerLength) {
    fail(`the header is truncated: the file is ${fileSize} bytes, its header declares ${headerLength}`);
  }
  const problems: string[] = [];
  const found: string[] = [];
  let at = DESCRIPTOR;
  while (at < buf.length && buf[at] !== HEADER_TERMINATOR && at + 32 <= headerLength) {
    const end = buf.indexOf(0, at);
    const name = buf.toString('latin1', at, end >= at && end < at + 11 ? end : at + 11).trim();
    const type = String.fromCharCode(buf[at + 11] ?? 0);
    const length = buf[at + 16] ?? 0;
    const decimals = type === 'N' ? (buf[at + 17] ?? 0) : 0;
    const expected: FieldSpec | undefined = layout.fields[found.length];
    const got = { name, type, length, decimals };
    if (!expected) problems.push(`unexpected field ${describe(got)}`);
    else if (
      name !== expected.name ||
      type !== expected.type ||
      length !== expected.length ||
      decimals !== expected.decimals
    ) {
      problems.push(`field ${found.length + 1} is ${describe(got)}, expected ${describe(expected)}`);
    }
    found.push(name);
    at += 32;
  }
  if (found.length < layout.fields.length) {
    const missing = layout.fields.slice(found.length).map((f) => f.name);
    problems.push(`missing field(s) ${missing.join(', ')}`);
  }
  if (problems.length === 0 && buf[at] !== HEADER_TERMINATOR)
    problems.push('no 0x0D after the field descriptors');
  if (problems.length === 0) {
    const lie = paddingProblem(buf, at, headerLength);
    if (lie) problems.push(lie);
  }
  if (problems.length === 0 && recordLength !== layout.recordLength) {
    problems.push(`record length is ${recordLength}, the fields make ${layout.recordLength}`);
  }
  if (problems.length > 0)
    fail(problems.slice(0, 4).join('; ') + (problems.length > 4 ? `; and ${problems.length - 4} more` : ''));
  return {
    recordCount: buf.readUInt32LE(OFF_COUNT),
    headerLength,
    recordLength,
    languageDriver: buf[OFF_LANGUAGE] ?? 0,
  };
}

/**
 * The declared header length must end where the header really ends: right after the 0x0D, or
 * after a few 0x00 bytes some writers put there. Anything else between the terminator and the
 * declared length is record bytes: the records would be decoded from shifted bytes and CLBZ
 * written into the middle of real records, so the file is refused (it is the broker's file that
 * lies, and nothing may be read or written until it is right).
 */
function paddingProblem(buf: Buffer, terminatorAt: number, headerLength: number): string | null {
  const end = terminatorAt + 1;
  if (headerLength < end)
    return `the header declares ${headerLength} bytes but its 0x0D terminator is at byte ${terminatorAt}`;
  if (headerLength > buf.length)
    return `the header declares ${headerLength} bytes, more than a dBase III header can hold (0x0D at byte ${terminatorAt})`;
  for (let i = end; i < headerLength; i++) {
    if (buf[i] !== 0) {
      return `the header declares ${headerLength} bytes but its 0x0D terminator is at byte ${terminatorAt} and byte ${i} after it is 0x${(buf[i] ?? 0).toString(16).padStart(2, '0')}, not padding: the records would be read from shifted bytes`;
    }
  }
  return null;
}

/** Reads and checks the header of an open file. */
export async function readHeader(fh: FileHandle, path: string, layout: DbfLayout): Promise<HeaderInfo> {
  const { size } = await fh.stat();
  const head = Buffer.alloc(Math.min(size, MAX_HEADER));
  const { bytesRead } = await fh.read(head, 0, head.length, 0);
  const buf = head.subarray(0, bytesRead);
  const declared = bytesRead >= 32 ? buf.readUInt16LE(OFF_HEADER_LEN) : 0;
  return checkHeader(
    buf.subarray(0, Math.max(Math.min(declared, bytesRead), Math.min(32, bytesRead))),
    size,
    path,
    layout,
  );
}

/** The record count as it stands in the header now (4 bytes; cheap enough for every poll). */
export async function readCount(fh: FileHandle, scratch: Buffer): Promise<number> {
  const { bytesRead } = await fh.read(scratch, 0, 4, OFF_COUNT);
  return bytesRead === 4 ? scratch.readUInt32LE(0) : 0;
}
