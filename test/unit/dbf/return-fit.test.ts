import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  fitReturn,
  NQHB_LAYOUT,
  readReturnFile,
  ReturnFileWriter,
} from '../../../appliance/src/dbf/index.js';
import { read, ret, tempDir } from './helpers.js';

const DAY = '20260105';
const raw = (over: Record<string, unknown>): Record<string, unknown> => ({ ...ret(1), ...over });

describe('fitReturn: a return made to fit NQHB.DBF', () => {
  it('passes a well-formed return through untouched', () => {
    const { row, issues } = fitReturn(
      raw({ HBLB: '2', CJBH: 'F1', CJJG: 10.5, CJSL: 300, CWXX: '成交' }),
      DAY,
    );
    expect(issues).toEqual([]);
    expect(row).toEqual(ret(1, { HBLB: '2', CJBH: 'F1', CJJG: 10.5, CJSL: 300, CWXX: '成交' }));
  });

  it.each([
    ['CJJG', 'abc', 'not a number'],
    ['CJJG', 123456789.5, 'does not fit N(11,3)'],
    ['CJJG', 1.23456, 'does not fit N(11,3)'],
    ['CJJG', Number.NaN, 'does not fit'],
    ['CJSL', '300', 'not a number'],
    ['CJSL', 1e13, 'does not fit N(12,0)'],
    ['CJSL', undefined, 'missing'],
  ])('writes an unfit number %s = %s blank (null), never 0', (field, value, why) => {
    const { row, issues } = fitReturn(raw({ [field]: value }), DAY);
    expect((row as unknown as Record<string, unknown>)[field]).toBeNull();
    expect(issues).toHaveLength(1);
    expect(issues[0]).toMatchObject({ field, raw: value, written: null, kind: 'blanked' });
    expect(issues[0]!.why).toContain(why);
  });

  it.each([
    ['JYDY', '7299001', '7 bytes, the field holds 6'],
    ['ZQDM', '43\n001', 'control characters'],
    ['LSH', 12345, 'not a string'],
    ['CJBH', 'F\u0085', 'control characters'],
    ['GDDM', '\u{1F600}', 'GBK cannot represent'],
    ['CWDM', undefined, 'missing'],
  ])(
    'writes an unfit code %s = %j blank: a cut or altered code would be another code',
    (field, value, why) => {
      const { row, issues } = fitReturn(raw({ [field]: value }), DAY);
      expect((row as unknown as Record<string, unknown>)[field]).toBe('');
      expect(issues).toMatchObject([{ field, raw: value, written: '', kind: 'blanked' }]);
      expect(issues[0]!.why).toContain(why);
    },
  );

  it.each([undefined, '', '2026-01-05', 20260105, '2026010', '20260102'])(
    'fills HBRQ = %j with the trading day',
    (value) => {
      const { row, issues } = fitReturn(raw({ HBRQ: value }), DAY);
      expect(row.HBRQ).toBe(DAY);
      expect(issues).toMatchObject([{ field: 'HBRQ', raw: value, written: DAY, kind: 'filled' }]);
    },
  );

  it('replaces control characters in the free text with spaces, and reports it', () => {
    const { row, issues } = fitReturn(raw({ CWXX: 'a\u0000b\u001b[31mc\u007fd\u009be' }), DAY);
    expect(row.CWXX).toBe('a b [31mc d e');
    expect(issues).toMatchObject([{ field: 'CWXX', kind: 'cleaned', written: 'a b [31mc d e' }]);
  });

  it.each<[unknown, string]>([
    ['9', 'not one of 0 1 2 3'],
    ['', 'not one of 0 1 2 3'],
    ['00', 'not one of 0 1 2 3'],
    [2, 'not a string'],
    [undefined, 'missing'],
  ])('writes an unknown HBLB = %j blank: any of the four kinds would be a claim', (value, why) => {
    const { row, issues } = fitReturn(raw({ HBLB: value }), DAY);
    expect(row.HBLB).toBe('');
    expect(issues).toMatchObject([{ field: 'HBLB', raw: value, written: '', kind: 'blanked' }]);
    expect(issues[0]!.why).toContain(why);
  });

  it('blanks a free text that is not a string; a long one is left to the encoder to cut', () => {
    expect(fitReturn(raw({ CWXX: { x: 1 } }), DAY).row.CWXX).toBe('');
    const long = '很长的错误信息'.repeat(10);
    expect(fitReturn(raw({ CWXX: long }), DAY)).toMatchObject({ row: { CWXX: long }, issues: [] });
  });
});

describe('ReturnFileWriter with fitted rows', () => {
  it('writes a blank HBLB, reads it back, and reopens the file without complaint', async () => {
    const file = path.join(tempDir(), 'NQHB.DBF');
    const { writer } = await ReturnFileWriter.open(file, { today: DAY, archiveOld: false });
    await writer.append([
      fitReturn(raw({ HBXH: 1 }), DAY).row,
      fitReturn(raw({ HBXH: 2, HBLB: '9', JYDY: 729900, LSH: { x: 1 } }), DAY).row,
      fitReturn(raw({ HBXH: 3, HBLB: '2' }), DAY).row,
    ]);
    expect(writer.kindCounts).toMatchObject({ '0': 1, '2': 1, '': 1 });
    await writer.close();
    const b = read(file);
    const f = NQHB_LAYOUT.fields.find((x) => x.name === 'HBLB')!;
    const at = NQHB_LAYOUT.headerLength + NQHB_LAYOUT.recordLength + f.offset;
    expect(b.toString('latin1', at, at + f.length)).toBe(' ');
    const back = await readReturnFile(file);
    expect(back.map((r) => [r.HBXH, r.HBLB, r.JYDY, r.LSH])).toEqual([
      [1, '0', '729900', '0000000001'],
      [2, '', '', ''],
      [3, '2', '729900', '0000000001'],
    ]);
    // The next start reads its own file: a blank HBLB is no damage.
    const again = await ReturnFileWriter.open(file, { today: DAY, archiveOld: false });
    expect([again.writer.lastSeq, again.warnings]).toEqual([3, []]);
    expect(again.writer.kindCounts).toMatchObject({ '0': 1, '2': 1, '': 1 });
    await again.writer.close();
  });

  it('writes a null number as a blank field that dBase readers take as no value, and every row in order', async () => {
    const file = path.join(tempDir(), 'NQHB.DBF');
    const { writer } = await ReturnFileWriter.open(file, { today: DAY, archiveOld: false });
    const rows = [
      fitReturn(raw({ HBXH: 1 }), DAY).row,
      fitReturn(raw({ HBXH: 2, HBLB: '2', CJJG: 'abc', CJSL: 'x', JYDY: '7299001', HBRQ: undefined }), DAY)
        .row,
      fitReturn(raw({ HBXH: 3, CWXX: '错\u0001误' }), DAY).row,
    ];
    await writer.append(rows);
    await writer.close();
    const b = read(file);
    const rec2 = NQHB_LAYOUT.headerLength + NQHB_LAYOUT.recordLength;
    for (const name of ['CJJG', 'CJSL']) {
      const f = NQHB_LAYOUT.fields.find((x) => x.name === name)!;
      expect(b.toString('latin1', rec2 + f.offset, rec2 + f.offset + f.length)).toBe(' '.repeat(f.length));
    }
    const back = await readReturnFile(file); // dbffile: an independent reader
    expect(back.map((r) => r.HBXH)).toEqual([1, 2, 3]);
    expect(back[1]).toMatchObject({ JYDY: '', HBRQ: DAY, HBLB: '2' });
    expect(back[2]!.CWXX).toBe('错 误');
    // Reopened: the blank numbers are no damage, nothing is cut.
    const again = await ReturnFileWriter.open(file, { today: DAY, archiveOld: false });
    expect([again.writer.lastSeq, again.warnings]).toEqual([3, []]);
    await again.writer.close();
  });
});
