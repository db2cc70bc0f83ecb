import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  createDbfFile,
  DbfReplacedError,
  DbfStateError,
  NQWT_LAYOUT,
  OrderFileAppender,
  OrderFileReader,
  readOrderFile,
  recordOffset,
  WARN_BAD_FLAG,
  WARN_COUNT_PAST_END,
} from '../../../appliance/src/dbf/index.js';
import { order, read, tempDir } from './helpers.js';

const R = NQWT_LAYOUT.recordLength;
const HL = NQWT_LAYOUT.headerLength;
const at = (recNo: number): number => recordOffset(HL, R, recNo);

async function setup(): Promise<{ file: string; app: OrderFileAppender; reader: OrderFileReader }> {
  const file = path.join(tempDir(), 'NQWT.DBF');
  await createDbfFile(file, NQWT_LAYOUT);
  const app = await OrderFileAppender.open(file);
  const reader = new OrderFileReader(file);
  await reader.open();
  return { file, app, reader };
}

const lshs = (b: { records: { row: { LSH: string } }[] }): number[] =>
  b.records.map((r) => Number(r.row.LSH));

describe('OrderFileReader: concurrent appends', () => {
  it('returns each record once, across appends, with 1-based record numbers', async () => {
    const { app, reader } = await setup();
    expect((await reader.readNew()).records).toEqual([]);
    await app.append([order(1), order(2)]);
    const a = await reader.readNew();
    expect(a.records.map((r) => r.recNo)).toEqual([1, 2]);
    expect(a.records[0]?.row).toEqual(order(1));
    expect((await reader.readNew()).records).toEqual([]);
    await app.append([order(3)]);
    const b = await reader.readNew();
    expect(b.records.map((r) => r.recNo)).toEqual([3]);
    expect(reader.nextRecNo).toBe(4);
    await Promise.all([app.close(), reader.close()]);
  });

  it('reads by file size when the header count lags', async () => {
    const { file, app, reader } = await setup();
    await app.append([order(1), order(2), order(3)], { staleCount: true });
    expect(read(file).readUInt32LE(4)).toBe(0);
    const batch = await reader.readNew();
    expect(lshs(batch)).toEqual([1, 2, 3]);
    expect(batch.warnings).toEqual([]);
    await Promise.all([app.close(), reader.close()]);
  });

  it('leaves a half-written last record for the next call', async () => {
    const { file, app, reader } = await setup();
    await app.append([order(1)]);
    // Issue 11: records are read only up to where the file was last seen whole, so record 1 must
    // be seen before the partial record 2 appears (a tail never seen whole may be a torn file).
    expect(lshs(await reader.readNew())).toEqual([1]);
    const finish = await app.appendHalf(order(2), 40);
    expect(read(file).length).toBe(HL + R + 40);
    expect(lshs(await reader.readNew())).toEqual([]);
    await finish();
    const later = await reader.readNew();
    expect(later.records).toEqual([{ recNo: 2, row: order(2) }]);
    await Promise.all([app.close(), reader.close()]);
  });

  it('reads files with and without the 0x1A end byte', async () => {
    const { file, app, reader } = await setup();
    await app.append([order(1)], { noEof: true });
    expect(read(file).length).toBe(HL + R);
    expect(lshs(await reader.readNew())).toEqual([1]);
    await app.append([order(2)]);
    expect(read(file).at(-1)).toBe(0x1a);
    expect(lshs(await reader.readNew())).toEqual([2]);
    await Promise.all([app.close(), reader.close()]);
  });

  it('waits on a last record whose first byte is still the old 0x1A (append under way)', async () => {
    const { file, app, reader } = await setup();
    await app.append([order(1), order(2)]);
    // Record 2's bytes are there but its flag byte is still 0x1A: a writer mid-way through.
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.from([0x1a]), 0, 1, at(2));
    expect(lshs(await reader.readNew())).toEqual([1]);
    fs.writeSync(fd, Buffer.from([0x20]), 0, 1, at(2));
    fs.closeSync(fd);
    expect(lshs(await reader.readNew())).toEqual([2]);
    await Promise.all([app.close(), reader.close()]);
  });

  it('skips and counts deleted records', async () => {
    const { app, reader } = await setup();
    await app.append([order(1), order(2), order(3)]);
    await app.markDeleted(2);
    const batch = await reader.readNew();
    expect(batch.records.map((r) => r.recNo)).toEqual([1, 3]);
    expect(batch.deletedSkipped).toBe(1);
    await Promise.all([app.close(), reader.close()]);
  });

  it('reports a record with a garbage number as unsent (not a warning) and reads the records after it', async () => {
    // Issue 11: it used to be a warning only, and the record was forgotten with CLBZ '0'.
    const { file, app, reader: unused } = await setup();
    await unused.close();
    const reader = new OrderFileReader(file, { settleMs: 0 });
    await reader.open();
    await app.append([order(1), order(2), order(3)]);
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.from('  1O0.5OO  ', 'latin1'), 0, 11, at(2) + NQWT_LAYOUT.offsetOf('WTJG'));
    fs.closeSync(fd);
    const batch = await reader.readNew();
    expect(batch.records.map((r) => r.recNo)).toEqual([1, 3]);
    expect(batch.warnings).toEqual([]);
    expect(batch.unsent).toHaveLength(1);
    expect(batch.unsent[0]).toMatchObject({ recNo: 2, code: 'NQ503', unit: '729900', serial: '0000000002' });
    expect(batch.unsent[0]?.text).toContain(file);
    expect(batch.unsent[0]?.text).toMatch(/record 2: field WTJG/);
    expect(reader.nextRecNo).toBe(4);
    await Promise.all([app.close(), reader.close()]);
  });

  it('reports a bad deletion flag in the middle as unsent and goes on', async () => {
    // Issue 11: was a warning only; now the record is reported to be refused (CLBZ '2') and listed.
    const { file, app, reader: unused } = await setup();
    await unused.close();
    const reader = new OrderFileReader(file, { settleMs: 0 });
    await reader.open();
    await app.append([order(1), order(2)]);
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.from([0x00]), 0, 1, at(1));
    fs.closeSync(fd);
    const batch = await reader.readNew();
    expect(lshs(batch)).toEqual([2]);
    expect(batch.warnings).toEqual([]);
    expect(batch.unsent).toMatchObject([{ recNo: 1, code: WARN_BAD_FLAG }]);
    await Promise.all([app.close(), reader.close()]);
  });

  it('warns once, naming the file, when the header count is past the end', async () => {
    const { file, app, reader } = await setup();
    await app.append([order(1)]);
    await app.setHeaderCount(50);
    const first = await reader.readNew();
    expect(lshs(first)).toEqual([1]);
    expect(first.warnings).toHaveLength(1);
    expect(first.warnings[0]?.code).toBe(WARN_COUNT_PAST_END);
    expect(first.warnings[0]?.recNo).toBeUndefined();
    expect(first.warnings[0]?.message).toContain(file);
    await app.append([order(2)], { staleCount: true });
    const second = await reader.readNew();
    expect(lshs(second)).toEqual([2]);
    expect(second.warnings).toEqual([]);
    await Promise.all([app.close(), reader.close()]);
  });

  it('reads a large backlog in slices of maxRecords', async () => {
    const { file, app, reader: unused } = await setup();
    await unused.close();
    await app.append(Array.from({ length: 25 }, (_, i) => order(i + 1)));
    const reader = new OrderFileReader(file, { maxRecords: 10 });
    await reader.open();
    expect((await reader.readNew()).records).toHaveLength(10);
    expect((await reader.readNew()).records).toHaveLength(10);
    expect(lshs(await reader.readNew())).toEqual([21, 22, 23, 24, 25]);
    await Promise.all([app.close(), reader.close()]);
  });

  it('resumes from skipTo after a restart', async () => {
    const { app, reader } = await setup();
    await app.append([order(1), order(2), order(3), order(4)]);
    reader.skipTo(3);
    expect(lshs(await reader.readNew())).toEqual([3, 4]);
    expect(() => reader.skipTo(0)).toThrow(DbfStateError);
    await Promise.all([app.close(), reader.close()]);
  });
});

describe('OrderFileReader: the file replaced under it', () => {
  it('throws DbfReplacedError when another file is renamed over it', async () => {
    const { file, app, reader } = await setup();
    await app.append([order(1)]);
    await reader.readNew();
    const other = path.join(path.dirname(file), 'new.DBF');
    await createDbfFile(other, NQWT_LAYOUT);
    fs.renameSync(other, file);
    const err = await reader.readNew().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DbfReplacedError);
    expect((err as DbfReplacedError).code).toBe('NQ502');
    expect((err as Error).message).toContain(file);
    await expect(reader.setFlags([1], '1')).rejects.toBeInstanceOf(DbfReplacedError);
    await Promise.all([app.close(), reader.close()]);
  });

  it('throws DbfReplacedError when the file is deleted', async () => {
    const { file, app, reader } = await setup();
    fs.unlinkSync(file);
    await expect(reader.readNew()).rejects.toBeInstanceOf(DbfReplacedError);
    await Promise.all([app.close(), reader.close()]);
  });

  it('throws DbfReplacedError when the file becomes shorter than what was read', async () => {
    const { file, app, reader } = await setup();
    await app.append([order(1), order(2), order(3)]);
    await reader.readNew();
    fs.truncateSync(file, at(2)); // same inode, one record left
    await expect(reader.readNew()).rejects.toThrow(/shorter than the 3 records already read/);
    await Promise.all([app.close(), reader.close()]);
  });

  it('throws DbfReplacedError when it is rewritten in place with other records', async () => {
    const { file, app, reader } = await setup();
    await app.append([order(1), order(2)]);
    await reader.readNew();
    await app.close();
    // Same inode, rewritten from the start by a program that copies another day's file in.
    await createDbfFile(file, NQWT_LAYOUT, { overwrite: true });
    const app2 = await OrderFileAppender.open(file);
    await app2.append([order(7), order(8), order(9)]);
    await expect(reader.readNew()).rejects.toThrow(/record 2 is no longer what was read/);
    await Promise.all([app2.close(), reader.close()]);
  });
});

describe('OrderFileReader: flags', () => {
  it('setFlags changes only the CLBZ byte of the given records', async () => {
    const { file, app, reader } = await setup();
    await app.append([order(1), order(2), order(3), order(4, { BZ: '中文备注' })]);
    await reader.readNew();
    const before = read(file);
    await reader.setFlags([2, 4], '1');
    await reader.sync();
    const after = read(file);
    const clbz = NQWT_LAYOUT.offsetOf('CLBZ');
    const changed: number[] = [];
    for (let i = 0; i < after.length; i++) if (after[i] !== before[i]) changed.push(i);
    expect(changed).toEqual([at(2) + clbz, at(4) + clbz]);
    expect(after.length).toBe(before.length);
    expect((await readOrderFile(file)).map((r) => r.CLBZ)).toEqual(['0', '1', '0', '1']);
    await Promise.all([app.close(), reader.close()]);
  });

  it('refuses record numbers that are not whole records, writing nothing', async () => {
    const { file, app, reader } = await setup();
    await app.append([order(1)]);
    await reader.readNew();
    const before = read(file);
    await expect(reader.setFlags([1, 2], '1')).rejects.toBeInstanceOf(DbfStateError);
    await expect(reader.setFlags([1], '10')).rejects.toThrow(/one ASCII character/);
    expect(read(file)).toEqual(before);
    await Promise.all([app.close(), reader.close()]);
  });

  it('rereadRecord sees the broker correcting a flag, and null for deleted or missing records', async () => {
    const { file, app, reader } = await setup();
    await app.append([order(1, { CLBZ: 'X' }), order(2)]);
    const batch = await reader.readNew();
    expect(batch.records[0]?.row.CLBZ).toBe('X');
    const fd = fs.openSync(file, 'r+');
    fs.writeSync(fd, Buffer.from('0'), 0, 1, at(1) + NQWT_LAYOUT.offsetOf('CLBZ'));
    fs.closeSync(fd);
    expect((await reader.rereadRecord(1))?.CLBZ).toBe('0');
    await app.markDeleted(2);
    expect(await reader.rereadRecord(2)).toBeNull();
    expect(await reader.rereadRecord(3)).toBeNull();
    await Promise.all([app.close(), reader.close()]);
  });

  it('a read-only reader refuses setFlags', async () => {
    const { file, app, reader: unused } = await setup();
    await unused.close();
    await app.append([order(1)]);
    const reader = new OrderFileReader(file, { readOnly: true });
    await reader.open();
    await reader.readNew();
    await expect(reader.setFlags([1], '1')).rejects.toThrow(/read-only/);
    await Promise.all([app.close(), reader.close()]);
  });

  it('refuses calls before open and after close', async () => {
    const file = path.join(tempDir(), 'NQWT.DBF');
    await createDbfFile(file, NQWT_LAYOUT);
    const reader = new OrderFileReader(file);
    await expect(reader.readNew()).rejects.toBeInstanceOf(DbfStateError);
    await reader.open();
    await reader.close();
    await expect(reader.readNew()).rejects.toThrow(/not open/);
  });
});

describe('readOrderFile', () => {
  it('returns the live rows, even when the header count lags', async () => {
    const { file, app, reader } = await setup();
    await app.append([order(1), order(2)]);
    await app.append([order(3)], { staleCount: true });
    await app.markDeleted(1);
    expect((await readOrderFile(file)).map((r) => r.LSH)).toEqual(['0000000002', '0000000003']);
    await Promise.all([app.close(), reader.close()]);
  });
});
