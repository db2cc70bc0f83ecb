import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DBFFile } from 'dbffile';
import {
  createDbfFile,
  DbfFormatError,
  NQHB_LAYOUT,
  NQWT_LAYOUT,
  OrderFileAppender,
  OrderFileReader,
  ReturnFileWriter,
} from '../../../appliance/src/dbf/index.js';
import { order, read, tempDir } from './helpers.js';

async function formatErrorOf(file: string): Promise<DbfFormatError> {
  const reader = new OrderFileReader(file);
  const err = await reader.open().then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DbfFormatError);
  return err as DbfFormatError;
}

describe('createDbfFile', () => {
  it('writes a dBase III header with GBK driver, 0x0D and 0x1A, and no records', async () => {
    const file = path.join(tempDir(), 'NQWT.DBF');
    await createDbfFile(file, NQWT_LAYOUT, { date: '20260105' });
    const b = read(file);
    expect(b.length).toBe(NQWT_LAYOUT.headerLength + 1);
    expect(b[0]).toBe(0x03);
    expect([b[1], b[2], b[3]]).toEqual([126, 1, 5]);
    expect(b.readUInt32LE(4)).toBe(0);
    expect(b.readUInt16LE(8)).toBe(NQWT_LAYOUT.headerLength);
    expect(b.readUInt16LE(10)).toBe(NQWT_LAYOUT.recordLength);
    expect(b[29]).toBe(0x4d);
    expect(b[NQWT_LAYOUT.headerLength - 1]).toBe(0x0d);
    expect(b[b.length - 1]).toBe(0x1a);
  });

  it('refuses to overwrite an existing file unless asked', async () => {
    const file = path.join(tempDir(), 'NQWT.DBF');
    await createDbfFile(file, NQWT_LAYOUT);
    await expect(createDbfFile(file, NQWT_LAYOUT)).rejects.toMatchObject({ code: 'EEXIST' });
    await createDbfFile(file, NQHB_LAYOUT, { overwrite: true });
    expect(read(file).readUInt16LE(10)).toBe(NQHB_LAYOUT.recordLength);
  });

  it('makes files that an independent dBase library (dbffile) reads with the same fields', async () => {
    const file = path.join(tempDir(), 'NQWT.DBF');
    await createDbfFile(file, NQWT_LAYOUT);
    const app = await OrderFileAppender.open(file);
    await app.append([order(1, { BZ: '备注' }), order(2)]);
    await app.close();
    const dbf = await DBFFile.open(file, { encoding: 'gbk' });
    expect(dbf.fields.map((f) => [f.name, f.type, f.size, f.decimalPlaces ?? 0])).toEqual(
      NQWT_LAYOUT.fields.map((f) => [f.name, f.type, f.length, f.decimals]),
    );
    const recs = await dbf.readRecords();
    expect(recs.map((r) => [r.LSH, r.WTJG, r.WTSL, r.BZ])).toEqual([
      ['0000000001', 12.345, 1001, '备注'],
      ['0000000002', 12.345, 1002, ''],
    ]);
  });
});

describe('header check', () => {
  it('refuses a truncated header, naming the file', async () => {
    const dir = tempDir();
    const good = path.join(dir, 'good.DBF');
    await createDbfFile(good, NQWT_LAYOUT);
    const file = path.join(dir, 'NQWT.DBF');
    fs.writeFileSync(file, read(good).subarray(0, 200));
    const err = await formatErrorOf(file);
    expect(err.code).toBe('NQ501');
    expect(err.message).toContain(file);
    expect(err.message).toMatch(/truncated/);
    expect(err.hint).toMatch(/path/);
  });

  it('refuses a file shorter than 32 bytes', async () => {
    const file = path.join(tempDir(), 'NQWT.DBF');
    fs.writeFileSync(file, Buffer.from([0x03, 0x7e]));
    expect((await formatErrorOf(file)).message).toMatch(/shorter than a dBase header/);
  });

  it('refuses a wrong field type and says which field', async () => {
    const file = path.join(tempDir(), 'NQWT.DBF');
    await createDbfFile(file, NQWT_LAYOUT);
    const b = read(file);
    b[32 + 3 * 32 + 11] = 'N'.charCodeAt(0); // LSH becomes numeric
    fs.writeFileSync(file, b);
    expect((await formatErrorOf(file)).message).toMatch(/field 4 is LSH N\(10,0\), expected LSH C\(10\)/);
  });

  it('refuses a wrong field length', async () => {
    const file = path.join(tempDir(), 'NQWT.DBF');
    await createDbfFile(file, NQWT_LAYOUT);
    const b = read(file);
    b[32 + 0 * 32 + 16] = 8; // JYDY C(8)
    fs.writeFileSync(file, b);
    expect((await formatErrorOf(file)).message).toMatch(/JYDY C\(8\), expected JYDY C\(6\)/);
  });

  it('refuses another dBase version', async () => {
    const file = path.join(tempDir(), 'NQWT.DBF');
    await createDbfFile(file, NQWT_LAYOUT);
    const b = read(file);
    b[0] = 0x30;
    fs.writeFileSync(file, b);
    expect((await formatErrorOf(file)).message).toMatch(/version byte is 0x30/);
  });

  it('refuses the return file given as the order file, and the other way round', async () => {
    const dir = tempDir();
    const hb = path.join(dir, 'NQHB.DBF');
    await createDbfFile(hb, NQHB_LAYOUT);
    expect((await formatErrorOf(hb)).message).toMatch(/NQWT\.DBF/);
    const wt = path.join(dir, 'NQWT.DBF');
    await createDbfFile(wt, NQWT_LAYOUT);
    await expect(ReturnFileWriter.open(wt, { today: '20260105', archiveOld: false })).rejects.toBeInstanceOf(
      DbfFormatError,
    );
    // Refused means untouched.
    expect(read(wt).length).toBe(NQWT_LAYOUT.headerLength + 1);
  });

  it('accepts a header with an extra 0x00 after the terminator (some dBase writers)', async () => {
    const file = path.join(tempDir(), 'NQWT.DBF');
    await createDbfFile(file, NQWT_LAYOUT);
    const b = read(file);
    const hl = NQWT_LAYOUT.headerLength;
    const patched = Buffer.concat([b.subarray(0, hl), Buffer.from([0]), b.subarray(hl)]);
    patched.writeUInt16LE(hl + 1, 8);
    fs.writeFileSync(file, patched);
    const app = await OrderFileAppender.open(file);
    await app.append([order(1)]);
    await app.close();
    const reader = new OrderFileReader(file);
    await reader.open();
    const batch = await reader.readNew();
    expect(batch.records.map((r) => r.row)).toEqual([order(1)]);
    await reader.close();
  });
});
