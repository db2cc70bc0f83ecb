import fs, { promises as fsp } from 'node:fs';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import {
  DbfSequenceError,
  DbfValueError,
  NQHB_LAYOUT,
  readReturnFile,
  recordOffset,
  ReturnFileWriter,
  ReturnsNotTodayError,
  WARN_COUNT_PAST_END,
  WARN_REPAIRED,
} from '../../../appliance/src/dbf/index.js';
import { MESSAGES } from '../../../appliance/src/shared/index.js';
import { read, ret, tempDir } from './helpers.js';

const R = NQHB_LAYOUT.recordLength;
const HL = NQHB_LAYOUT.headerLength;
const TODAY = '20260105';
const open = (file: string, archiveOld = false) => ReturnFileWriter.open(file, { today: TODAY, archiveOld });

async function fileWith(rows: number, over = {}): Promise<string> {
  const file = path.join(tempDir(), 'NQHB.DBF');
  const { writer } = await open(file);
  await writer.append(Array.from({ length: rows }, (_, i) => ret(i + 1, over)));
  await writer.close();
  return file;
}

describe('ReturnFileWriter', () => {
  it('creates a missing file, appends, and keeps lastSeq, count, header count and 0x1A right', async () => {
    const file = path.join(tempDir(), 'NQHB.DBF');
    const { writer, warnings, archivedTo } = await open(file);
    expect([writer.lastSeq, writer.count, warnings, archivedTo]).toEqual([0, 0, [], undefined]);
    await writer.append([
      ret(1),
      ret(2, { HBLB: '1', CWDM: 'E001', CWXX: '主站错单通知：委托第2笔流水号非法!' }),
    ]);
    await writer.append([ret(3, { HBLB: '2', CJBH: 'F1', CJJG: 10.5, CJSL: 300 })]);
    expect([writer.lastSeq, writer.count]).toEqual([3, 3]);
    const b = read(file);
    expect(b.length).toBe(HL + 3 * R + 1);
    expect(b.readUInt32LE(4)).toBe(3);
    expect(b.at(-1)).toBe(0x1a);
    await writer.close();
    // Read back by dbffile, an independent reader, GBK text included.
    const rows = await readReturnFile(file);
    expect(rows.map((r) => r.HBXH)).toEqual([1, 2, 3]);
    expect(rows[1]).toEqual(ret(2, { HBLB: '1', CWDM: 'E001', CWXX: '主站错单通知：委托第2笔流水号非法!' }));
    expect(rows[2]).toEqual(ret(3, { HBLB: '2', CJBH: 'F1', CJJG: 10.5, CJSL: 300 }));
    // Reopened: carries on where it was.
    const again = await open(file);
    expect([again.writer.lastSeq, again.writer.count, again.warnings]).toEqual([3, 3, []]);
    await again.writer.close();
  });

  it('syncs once per append call, however many rows', async () => {
    const file = path.join(tempDir(), 'NQHB.DBF');
    const { writer } = await open(file);
    const probe = await fsp.open(file, 'r');
    const proto = Object.getPrototypeOf(probe) as { sync: () => Promise<void> };
    await probe.close();
    const spy = vi.spyOn(proto, 'sync');
    try {
      await writer.append(Array.from({ length: 500 }, (_, i) => ret(i + 1)));
      expect(spy).toHaveBeenCalledTimes(1);
    } finally {
      spy.mockRestore();
      await writer.close();
    }
  });

  it('refuses a gap or a repeat in HBXH, and a row that does not fit, writing nothing', async () => {
    const file = await fileWith(2);
    const { writer } = await open(file);
    const before = read(file);
    await expect(writer.append([ret(2)])).rejects.toBeInstanceOf(DbfSequenceError);
    await expect(writer.append([ret(3), ret(5)])).rejects.toThrow(/HBXH 5 refused, the next one must be 4/);
    await expect(writer.append([ret(3, { LSH: 'X'.repeat(11) })])).rejects.toBeInstanceOf(DbfValueError);
    expect(read(file)).toEqual(before);
    await writer.append([ret(3)]);
    expect(writer.lastSeq).toBe(3);
    await writer.close();
  });

  it('serialises concurrent append calls', async () => {
    const file = path.join(tempDir(), 'NQHB.DBF');
    const { writer } = await open(file);
    await Promise.all([
      writer.append([ret(1), ret(2)]),
      writer.append([ret(3)]),
      writer.append([ret(4), ret(5)]),
    ]);
    await writer.close();
    expect((await readReturnFile(file)).map((r) => r.HBXH)).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('ReturnFileWriter repairs what a crash leaves', () => {
  it('cuts a half-written last record and restores the 0x1A', async () => {
    const file = await fileWith(3);
    const torn = Buffer.alloc(R);
    const full = read(file);
    full.copy(torn, 0, HL + 2 * R, HL + 3 * R);
    // A fourth record cut after 70 bytes, header count not yet updated.
    fs.truncateSync(file, HL + 3 * R);
    fs.appendFileSync(file, torn.subarray(0, 70));
    const { writer, warnings } = await open(file);
    expect([writer.count, writer.lastSeq]).toEqual([3, 3]);
    expect(warnings.map((w) => w.code)).toEqual([WARN_REPAIRED]);
    expect(warnings[0]?.message).toMatch(/half-written record \(70 bytes\)/);
    const b = read(file);
    expect(b.length).toBe(HL + 3 * R + 1);
    expect(b.at(-1)).toBe(0x1a);
    await writer.append([ret(4)]);
    await writer.close();
    expect((await readReturnFile(file)).map((r) => r.HBXH)).toEqual([1, 2, 3, 4]);
  });

  it('sets a lagging header count to the whole records', async () => {
    const file = await fileWith(4);
    const fd = fs.openSync(file, 'r+');
    const zero = Buffer.alloc(4);
    zero.writeUInt32LE(2, 0);
    fs.writeSync(fd, zero, 0, 4, 4);
    fs.closeSync(fd);
    const { writer, warnings } = await open(file);
    expect(writer.count).toBe(4);
    expect(warnings.map((w) => w.message).join()).toMatch(/header count 2 lagged, set to 4/);
    expect(read(file).readUInt32LE(4)).toBe(4);
    await writer.close();
  });

  it('corrects a count past the end, with a warning', async () => {
    const file = await fileWith(2);
    const fd = fs.openSync(file, 'r+');
    const big = Buffer.alloc(4);
    big.writeUInt32LE(99, 0);
    fs.writeSync(fd, big, 0, 4, 4);
    fs.closeSync(fd);
    const { writer, warnings } = await open(file);
    expect(warnings.map((w) => w.code)).toEqual([WARN_COUNT_PAST_END]);
    expect(warnings[0]?.message).toContain(file);
    expect(read(file).readUInt32LE(4)).toBe(2);
    await writer.close();
  });

  it('drops a whole-length record at the end that is torn (zeros), and restores a missing 0x1A', async () => {
    const file = await fileWith(2);
    fs.truncateSync(file, HL + 2 * R);
    fs.appendFileSync(file, Buffer.alloc(R)); // length of a record, never written
    const { writer, warnings } = await open(file);
    expect(writer.count).toBe(2);
    expect(
      warnings.some((w) => /damaged record\(s\) at the end \(from record 3\) removed/.test(w.message)),
    ).toBe(true);
    expect(read(file).length).toBe(HL + 2 * R + 1);
    await writer.close();

    fs.truncateSync(file, HL + 2 * R); // no 0x1A
    const again = await open(file);
    expect(again.warnings.map((w) => w.message).join()).toMatch(/0x1A end-of-file byte restored/);
    expect(read(file).at(-1)).toBe(0x1a);
    await again.writer.close();
  });
});

describe("ReturnFileWriter and another day's file", () => {
  it("refuses it with the vendor's words and leaves it alone", async () => {
    const file = await fileWith(2, { HBRQ: '20260102' });
    const before = read(file);
    const err = await open(file).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReturnsNotTodayError);
    expect((err as ReturnsNotTodayError).code).toBe('NQ203');
    expect((err as Error).message).toContain(MESSAGES.NQ203_RETURNS_NOT_TODAY);
    expect((err as Error).message).toContain(file);
    expect((err as ReturnsNotTodayError).foundDate).toBe('20260102');
    expect(read(file)).toEqual(before);
  });

  it('archives it as NQHB.<date>.DBF and starts a fresh file; never overwrites an archive', async () => {
    const file = await fileWith(2, { HBRQ: '20260102' });
    const dir = path.dirname(file);
    const old = read(file);
    const first = await open(file, true);
    expect(first.archivedTo).toBe(path.join(dir, 'NQHB.20260102.DBF'));
    expect(read(first.archivedTo!)).toEqual(old);
    expect([first.writer.count, first.writer.lastSeq]).toEqual([0, 0]);
    await first.writer.append([ret(1, { HBRQ: '20260102' })]); // a second old file, same date
    await first.writer.close();

    const second = await open(file, true);
    expect(second.archivedTo).toBe(path.join(dir, 'NQHB.20260102.1.DBF'));
    expect(read(path.join(dir, 'NQHB.20260102.DBF'))).toEqual(old);
    expect((await readReturnFile(second.archivedTo!)).map((r) => r.HBXH)).toEqual([1]);
    await second.writer.close();
    expect(read(file).length).toBe(HL + 1);
  });

  it("opens today's file without archiving", async () => {
    const file = await fileWith(1);
    const { writer, archivedTo } = await open(file, true);
    expect(archivedTo).toBeUndefined();
    expect(writer.lastSeq).toBe(1);
    await writer.close();
  });

  it('recordOffset points at the records the writer wrote', async () => {
    const file = await fileWith(3);
    const b = read(file);
    const at = recordOffset(HL, R, 3) + NQHB_LAYOUT.offsetOf('HBXH');
    expect(b.toString('latin1', at, at + 12)).toBe('           3');
  });
});
