import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  createDbfFile,
  DbfFormatError,
  DbfGeometryError,
  encodeRows,
  NQWT_LAYOUT,
  OrderFileAppender,
  OrderFileReader,
  recordOffset,
  type OrderRow,
} from '../../../appliance/src/dbf/index.js';
import { setCount, writeBytes } from '../../helpers/dbf-bytes.js';
import { order, read, tempDir } from './helpers.js';

const R = NQWT_LAYOUT.recordLength;
const HL = NQWT_LAYOUT.headerLength;
const at = (recNo: number): number => recordOffset(HL, R, recNo);
const SETTLE = 1000;

/** A reader on a clock the test moves. */
function clockedReader(
  file: string,
  settleMs = SETTLE,
): { reader: OrderFileReader; tick: (ms: number) => void } {
  let t = 1_000_000;
  const reader = new OrderFileReader(file, { settleMs, now: () => t });
  return { reader, tick: (ms) => (t += ms) };
}

async function validFile(n: number): Promise<string> {
  const file = path.join(tempDir(), 'NQWT.DBF');
  await createDbfFile(file, NQWT_LAYOUT);
  const app = await OrderFileAppender.open(file);
  await app.append(Array.from({ length: n }, (_, i) => order(i + 1)));
  await app.close();
  return file;
}

/** A file of `n` valid orders, and a reader on a clock the test moves that has read them all. */
async function readerPast(
  n: number,
  settleMs = SETTLE,
): Promise<{ file: string; reader: OrderFileReader; tick: (ms: number) => void }> {
  const file = await validFile(n);
  const { reader, tick } = clockedReader(file, settleMs);
  await reader.open();
  await reader.readNew();
  return { file, reader, tick };
}

/**
 * The lab case of issue 11: a writer died 60 bytes into record 4 (over the 0x1A); the restarted
 * program appends whole records at the end of the file, not at the header count, and counts
 * them. Read by size, "record 4" is the torn part plus record 5's first 65 bytes: serial 4 from
 * the dead write, quantity 72,990,020,261 from record 5's flag, unit and date, CLBZ '0' from its
 * security code. Every field of it parses: only the geometry can tell.
 */
function tearAndAppendAtEof(file: string, torn: OrderRow, after: OrderRow[]): void {
  const tornBytes = encodeRows(NQWT_LAYOUT, [torn]).subarray(0, 60);
  const size = fs.statSync(file).size; // H + 3R + 1 (the 0x1A)
  writeBytes(file, tornBytes, size - 1);
  const end = size - 1 + 60;
  writeBytes(file, encodeRows(NQWT_LAYOUT, after, 0x1a), end);
  setCount(file, 3 + after.length);
}

describe('NQWT.DBF geometry (issue 11)', () => {
  it('the torn record really decodes as the mixed-up order of the lab when read by size', () => {
    // What the old reader sent: this guards the test's own scenario, not the reader.
    const file = path.join(tempDir(), 'x.bin');
    const bytes = Buffer.concat([
      encodeRows(NQWT_LAYOUT, [order(4)]).subarray(0, 60),
      encodeRows(NQWT_LAYOUT, [order(5, { WTRQ: '20261201' })]),
    ]);
    fs.writeFileSync(file, bytes);
    expect(bytes.toString('latin1', NQWT_LAYOUT.offsetOf('WTSL'), NQWT_LAYOUT.offsetOf('WTSL') + 12)).toBe(
      ' 72990020261',
    );
    expect(bytes.toString('latin1', NQWT_LAYOUT.offsetOf('CLBZ'), NQWT_LAYOUT.offsetOf('CLBZ') + 1)).toBe(
      '0',
    );
  });

  it('stops with NQ520 on a torn record followed by whole records at the end, reading and writing nothing', async () => {
    const file = await validFile(3);
    const { reader, tick } = clockedReader(file);
    await reader.open();
    expect((await reader.readNew()).records.map((r) => r.recNo)).toEqual([1, 2, 3]);
    tearAndAppendAtEof(file, order(4), [order(5, { WTRQ: '20261201' }), order(6)]);
    const before = read(file);

    // A partial tail may be a write under way: nothing is read while it lasts...
    const first = await reader.readNew();
    expect(first.records).toEqual([]);
    expect(first.unsent).toEqual([]);
    tick(SETTLE / 2);
    expect((await reader.readNew()).records).toEqual([]);
    // ...and once it lasts past the wait, the reader stops with an alarm.
    tick(SETTLE);
    const err = await reader.readNew().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DbfGeometryError);
    expect((err as DbfGeometryError).code).toBe('NQ520');
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toMatch(/61 bytes over/); // the torn 60 and the 0x1A
    expect((err as DbfGeometryError).hint).toMatch(/重新录入|re-enter|修复/);
    // Nothing is written while the geometry is in doubt, not even a CLBZ of a record read before.
    await expect(reader.setFlags([1], '1')).rejects.toBeInstanceOf(DbfGeometryError);
    await expect(reader.rereadRecord(2)).rejects.toBeInstanceOf(DbfGeometryError);
    await expect(reader.readNew()).rejects.toBeInstanceOf(DbfGeometryError);
    expect(read(file)).toEqual(before);

    // The broker repairs the file (same inode: torn part cut, records 4-6 written whole): it goes on.
    fs.truncateSync(file, at(4));
    writeBytes(file, encodeRows(NQWT_LAYOUT, [order(4), order(5), order(6)], 0x1a), at(4));
    setCount(file, 6);
    const healed = await reader.readNew();
    expect(healed.records.map((r) => r.row)).toEqual([order(4), order(5), order(6)]);
    await reader.setFlags([4], '1');
    await reader.close();
  });

  it('a gateway started on such a file reads nothing, not even the records before the torn one', async () => {
    const file = await validFile(3);
    tearAndAppendAtEof(file, order(4), [order(5, { WTRQ: '20261201' }), order(6)]);
    const before = read(file);
    const { reader, tick } = clockedReader(file);
    await reader.open();
    expect(await reader.skipSettled(['1', '2'])).toBe(0);
    expect((await reader.readNew()).records).toEqual([]);
    tick(SETTLE);
    await expect(reader.readNew()).rejects.toMatchObject({ code: 'NQ520' });
    expect(read(file)).toEqual(before);
    await reader.close();
  });

  it('refuses a header whose declared length is not where its 0x0D is (records would be shifted)', async () => {
    for (const declared of [HL + 1, HL + R]) {
      const file = await validFile(2);
      const b = read(file);
      b.writeUInt16LE(declared, 8);
      fs.writeFileSync(file, b);
      const reader = new OrderFileReader(file);
      const err = await reader.open().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DbfFormatError);
      expect((err as Error).message).toMatch(
        new RegExp(`declares ${declared} bytes but its 0x0D terminator is at byte ${HL - 1}`),
      );
      expect(read(file)).toEqual(b);
    }
  });

  it('refuses a header length shorter than where the 0x0D is', async () => {
    const file = await validFile(1);
    const b = read(file);
    // Another field descriptor's worth of bytes before the 0x0D: the header is longer than declared.
    const longer = Buffer.concat([b.subarray(0, HL - 1), Buffer.alloc(32, 0x41), b.subarray(HL - 1)]);
    longer.writeUInt16LE(HL, 8);
    fs.writeFileSync(file, longer);
    await expect(new OrderFileReader(file).open()).rejects.toBeInstanceOf(DbfFormatError);
  });

  it('cannot confirm the geometry for a bad record when the header count disagrees: alarm, no write', async () => {
    const file = await validFile(3);
    writeBytes(file, Buffer.from('           '), at(2) + NQWT_LAYOUT.offsetOf('WTJG')); // blank price
    setCount(file, 2); // the count disagrees with the 3 whole records
    const before = read(file);
    const { reader, tick } = clockedReader(file);
    await reader.open();
    expect((await reader.readNew()).records.map((r) => r.recNo)).toEqual([1]);
    tick(SETTLE); // waited as a record still being written; now it would be judged...
    expect((await reader.readNew()).unsent).toEqual([]); // ...but the count and size disagree
    tick(SETTLE);
    await expect(reader.readNew()).rejects.toMatchObject({ code: 'NQ520' });
    expect(read(file)).toEqual(before);
    await reader.close();
  });
});

describe('records written in two steps (issue 11)', () => {
  it('waits for a blank record (spaces) and reads it once filled: no NQ403 case, no NQ502', async () => {
    const file = await validFile(1);
    const { reader } = clockedReader(file);
    await reader.open();
    expect((await reader.readNew()).records).toHaveLength(1);
    const app = await OrderFileAppender.open(file);
    const blank: OrderRow = {
      ...order(2),
      JYDY: '',
      WTRQ: '',
      WTSJ: '',
      LSH: '',
      GDDM: '',
      ZQDM: '',
      YWLB: '',
    };
    const bytes = encodeRows(NQWT_LAYOUT, [blank], 0x1a);
    bytes.fill(0x20, 1, R); // every field blank, numbers too
    writeBytes(file, bytes, at(2));
    setCount(file, 2);
    const waiting = await reader.readNew();
    expect(waiting).toMatchObject({ records: [], unsent: [], warnings: [] });
    writeBytes(file, encodeRows(NQWT_LAYOUT, [order(2)]), at(2)); // the second step
    const filled = await reader.readNew();
    expect(filled.records.map((r) => r.row)).toEqual([order(2)]);
    await app.close();
    await reader.close();
  });

  it('waits for several records appended as NULs and fills them in order', async () => {
    const { file, reader } = await readerPast(1);
    const blanks = Buffer.alloc(3 * R + 1);
    blanks[3 * R] = 0x1a;
    writeBytes(file, blanks, at(2));
    setCount(file, 4);
    expect((await reader.readNew()).records).toEqual([]);
    writeBytes(file, encodeRows(NQWT_LAYOUT, [order(2)]), at(2));
    expect((await reader.readNew()).records.map((r) => r.recNo)).toEqual([2]);
    writeBytes(file, encodeRows(NQWT_LAYOUT, [order(3), order(4)]), at(3));
    expect((await reader.readNew()).records.map((r) => r.recNo)).toEqual([3, 4]);
    await reader.close();
  });

  it('waits for a record filled field by field (price still blank) instead of judging it', async () => {
    const { file, reader, tick } = await readerPast(1);
    const half = encodeRows(NQWT_LAYOUT, [order(2)], 0x1a);
    half.fill(0x20, NQWT_LAYOUT.offsetOf('WTJG'), NQWT_LAYOUT.offsetOf('WTJG') + 11);
    writeBytes(file, half, at(2));
    setCount(file, 2);
    tick(SETTLE - 1);
    expect(await reader.readNew()).toMatchObject({ records: [], unsent: [] });
    writeBytes(file, encodeRows(NQWT_LAYOUT, [order(2)]), at(2));
    expect((await reader.readNew()).records.map((r) => r.row)).toEqual([order(2)]);
    await reader.close();
  });

  it('a blank record never filled in is judged after the wait (NQ522), the records behind it then read', async () => {
    const { file, reader, tick } = await readerPast(1);
    const bytes = Buffer.concat([Buffer.alloc(R, 0x20), encodeRows(NQWT_LAYOUT, [order(3)], 0x1a)]);
    writeBytes(file, bytes, at(2));
    setCount(file, 3);
    expect((await reader.readNew()).records).toEqual([]); // record 3 waits behind it: file order
    tick(SETTLE);
    const judged = await reader.readNew();
    expect(judged.unsent).toMatchObject([{ recNo: 2, code: 'NQ522' }]);
    expect(judged.records.map((r) => r.recNo)).toEqual([3]);
    await reader.close();
  });

  it('a record not sent may be corrected in place when it is the last one read: no false NQ502', async () => {
    const { file, reader } = await readerPast(1, 0);
    const bad = encodeRows(NQWT_LAYOUT, [order(2)], 0x1a);
    bad.write('   12.3x5  ', NQWT_LAYOUT.offsetOf('WTJG'), 'latin1');
    writeBytes(file, bad, at(2));
    setCount(file, 2);
    expect((await reader.readNew()).unsent).toMatchObject([{ recNo: 2, code: 'NQ503' }]);
    await reader.setFlags([2], '2');
    // The broker's program corrects record 2 in place and sets CLBZ back to '0'; then appends 3.
    writeBytes(file, encodeRows(NQWT_LAYOUT, [order(2)]), at(2));
    const app = await OrderFileAppender.open(file);
    await app.append([order(3)]);
    await app.close();
    expect((await reader.readNew()).records.map((r) => r.recNo)).toEqual([3]);
    expect(await reader.rereadRecord(2)).toEqual(order(2));
    await reader.close();
  });

  it('a record refused by the checks (CLBZ 2) may be corrected in place when it is the last one read', async () => {
    const { file, reader } = await readerPast(2, 0);
    await reader.setFlags([2], '2'); // e.g. a wrong trading unit
    writeBytes(file, encodeRows(NQWT_LAYOUT, [order(2, { JYDY: '729901' })]), at(2));
    const app = await OrderFileAppender.open(file);
    await app.append([order(3)]);
    await app.close();
    expect((await reader.readNew()).records.map((r) => r.recNo)).toEqual([3]);
    await reader.close();
  });
});
