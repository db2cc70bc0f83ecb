import { describe, expect, it } from 'vitest';
import iconv from 'iconv-lite';
import {
  decodeOrder,
  decodeReturn,
  encodeOrder,
  encodeReturn,
  DbfFieldError,
  DbfValueError,
  NQHB_LAYOUT,
  NQWT_LAYOUT,
} from '../../../appliance/src/dbf/index.js';
import { order, ret } from './helpers.js';

const W = NQWT_LAYOUT;
const H = NQHB_LAYOUT;

function fieldBytes(buf: Buffer, layout: typeof W, name: string): string {
  const f = layout.fields.find((x) => x.name === name)!;
  return buf.toString('latin1', f.offset, f.offset + f.length);
}

describe('record layouts', () => {
  it('have the lengths of the SPEC tables', () => {
    expect(W.fields.map((f) => f.name)).toEqual([
      'JYDY',
      'WTRQ',
      'WTSJ',
      'LSH',
      'GDDM',
      'ZQDM',
      'YWLB',
      'WTJG',
      'WTSL',
      'DFXW',
      'DFGD',
      'YDH',
      'CDLSH',
      'CLBZ',
      'BZ',
    ]);
    expect(W.recordLength).toBe(125);
    expect(W.headerLength).toBe(513);
    expect(W.offsetOf('CLBZ')).toBe(104); // docs/interface.md gives this offset
    expect(H.headerLength).toBe(481);
    expect(H.fields.map((f) => f.name)).toEqual([
      'JYDY',
      'HBRQ',
      'HBSJ',
      'LSH',
      'HBLB',
      'ZQDM',
      'GDDM',
      'YWLB',
      'CJBH',
      'CJJG',
      'CJSL',
      'CWDM',
      'CWXX',
      'HBXH',
    ]);
    expect(H.recordLength).toBe(165);
  });
});

describe('order codec', () => {
  it('round-trips a row, GBK Chinese in BZ included', () => {
    const row = order(7, { BZ: '协议转让备注', YWLB: '1B', DFXW: '729901', YDH: '000123' });
    const buf = Buffer.alloc(W.recordLength);
    encodeOrder(row, buf, 0);
    expect(buf[0]).toBe(0x20);
    expect(decodeOrder(buf, 0)).toEqual(row);
    // The bytes in the file are GBK, not UTF-8.
    const bz = W.fields.find((f) => f.name === 'BZ')!;
    expect(buf.subarray(bz.offset, bz.offset + 12)).toEqual(iconv.encode('协议转让备注', 'gbk'));
  });

  it('writes numbers right-aligned with the declared decimals, strings left-aligned', () => {
    const buf = Buffer.alloc(W.recordLength);
    encodeOrder(order(1, { WTJG: 12.3, WTSL: 500, LSH: '42' }), buf, 0);
    expect(fieldBytes(buf, W, 'WTJG')).toBe('     12.300');
    expect(fieldBytes(buf, W, 'WTSL')).toBe('         500');
    expect(fieldBytes(buf, W, 'LSH')).toBe('42        ');
    encodeOrder(order(1, { WTJG: 0.5, WTSL: 0 }), buf, 0);
    expect(fieldBytes(buf, W, 'WTJG')).toBe('      0.500');
    expect(fieldBytes(buf, W, 'WTSL')).toBe('           0');
  });

  it('encodes at an offset inside a larger buffer without touching its neighbours', () => {
    const buf = Buffer.alloc(W.recordLength * 3, 0x55);
    encodeOrder(order(2), buf, W.recordLength);
    expect(buf.subarray(0, W.recordLength).every((b) => b === 0x55)).toBe(true);
    expect(buf.subarray(2 * W.recordLength).every((b) => b === 0x55)).toBe(true);
    expect(decodeOrder(buf, W.recordLength)).toEqual(order(2));
  });

  it('refuses values that do not fit, instead of cutting a code', () => {
    const buf = Buffer.alloc(W.recordLength);
    expect(() => encodeOrder(order(1, { LSH: '12345678901' }), buf, 0)).toThrow(DbfValueError);
    expect(() => encodeOrder(order(1, { WTSL: 1e13 }), buf, 0)).toThrow(DbfValueError);
    expect(() => encodeOrder(order(1, { WTJG: Number.NaN }), buf, 0)).toThrow(DbfValueError);
    expect(() => encodeOrder(order(1, { WTSL: 1.5 }), buf, 0)).toThrow(/decimal places/);
    expect(() => encodeOrder(order(1, { JYDY: '交易单元' }), buf, 0)).toThrow(DbfValueError); // 8 GBK bytes > 6
  });

  it('cuts free text at a GBK character boundary', () => {
    const buf = Buffer.alloc(W.recordLength);
    // 11 Chinese characters = 22 bytes; BZ holds 20 -> 10 characters, never half of one.
    encodeOrder(order(1, { BZ: '一二三四五六七八九十壹' }), buf, 0);
    expect(decodeOrder(buf, 0).BZ).toBe('一二三四五六七八九十');
    encodeOrder(order(1, { BZ: 'a一二三四五六七八九十' }), buf, 0); // 21 bytes: the last character cannot fit
    expect(decodeOrder(buf, 0).BZ).toBe('a一二三四五六七八九');
  });

  it('reads blank numbers as 0 and garbage as a DbfFieldError naming file, record and field', () => {
    const buf = Buffer.alloc(W.recordLength);
    encodeOrder(order(1), buf, 0);
    const wtjg = W.offsetOf('WTJG');
    buf.write('           ', wtjg, 'latin1');
    expect(decodeOrder(buf, 0).WTJG).toBe(0);
    buf.write('   12.3x5  ', wtjg, 'latin1');
    let caught: unknown;
    try {
      decodeOrder(buf, 0, '/data/NQWT.DBF', 17);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(DbfFieldError);
    expect((caught as DbfFieldError).code).toBe('NQ503');
    expect((caught as Error).message).toMatch(/\/data\/NQWT\.DBF record 17: field WTJG/);
  });

  it('parses negative and signed numbers', () => {
    const buf = Buffer.alloc(W.recordLength);
    encodeOrder(order(1, { WTJG: -3.25 }), buf, 0);
    expect(fieldBytes(buf, W, 'WTJG')).toBe('     -3.250');
    expect(decodeOrder(buf, 0).WTJG).toBe(-3.25);
  });
});

describe('return codec', () => {
  it('round-trips a rejection with GBK error text and a fill', () => {
    const rej = ret(3, { HBLB: '1', CWDM: 'E012', CWXX: '主站错单通知：委托第3笔证券代码非法/已停牌!' });
    const fill = ret(4, { HBLB: '2', CJBH: '2026010500000001', CJJG: 9.87, CJSL: 123456789012 });
    const buf = Buffer.alloc(H.recordLength * 2);
    encodeReturn(rej, buf, 0);
    encodeReturn(fill, buf, H.recordLength);
    expect(decodeReturn(buf, 0)).toEqual(rej);
    expect(decodeReturn(buf, H.recordLength)).toEqual(fill);
  });

  it('refuses an HBLB outside 0-3, on write and on read', () => {
    const buf = Buffer.alloc(H.recordLength);
    expect(() => encodeReturn(ret(1, { HBLB: '9' as '0' }), buf, 0)).toThrow(DbfValueError);
    encodeReturn(ret(1), buf, 0);
    buf[H.offsetOf('HBLB')] = 0x39;
    expect(() => decodeReturn(buf, 0)).toThrow(DbfFieldError);
  });
});
