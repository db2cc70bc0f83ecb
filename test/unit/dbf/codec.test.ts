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

  it('refuses garbage with a DbfFieldError naming file, record and field', () => {
    const buf = Buffer.alloc(W.recordLength);
    encodeOrder(order(1), buf, 0);
    const wtjg = W.offsetOf('WTJG');
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

  // Issue 11: a blank WTJG used to be read as price 0 and sent; a negative quantity was sent too.
  it.each([
    ['WTJG', '           ', /WTJG.*blank/],
    ['WTSL', '            ', /WTSL.*blank/],
    ['WTSL', '        -100', /WTSL.*negative/],
    ['WTSL', '       +100', /WTSL.*sign/],
    ['WTJG', '    12.3456', /WTJG.*more than 3 decimal places/],
    ['WTJG', '  1 2.500  ', /WTJG.*not a number/],
    ['WTJG', '  12.5.0   ', /WTJG.*not a number/],
    ['WTJG', '          .', /WTJG.*not a number/],
    ['WTSL', '\x0012345678', /WTSL.*control byte/],
    ['WTRQ', '2026010 ', /WTRQ.*not 8 digits/],
    ['WTSJ', '09:300', /WTSJ.*not all digits/],
    ['LSH', '12\x0734    ', /LSH.*control byte/],
    ['ZQDM', '4300\x7f1', /ZQDM.*control byte/],
    ['BZ', 'note\nmore          ', /BZ.*control byte/],
  ])('refuses an order whose %s is %j', (field, bytes, message) => {
    const buf = Buffer.alloc(W.recordLength);
    encodeOrder(order(1), buf, 0);
    buf.write(bytes, W.offsetOf(field), 'latin1');
    expect(() => decodeOrder(buf, 0, 'NQWT.DBF', 3)).toThrow(message);
  });

  it('takes the widest quantity the field holds, exactly (12 digits)', () => {
    // Longer digit strings than a double holds exactly are refused too (a wider official field).
    const buf = Buffer.alloc(W.recordLength);
    encodeOrder(order(1), buf, 0);
    buf.write('999999999999', W.offsetOf('WTSL'), 'latin1'); // 12 digits: fits, and is exact
    expect(decodeOrder(buf, 0).WTSL).toBe(999_999_999_999);
  });

  it('accepts trailing NUL padding in text, fewer decimals than declared, and an explicit 0', () => {
    const buf = Buffer.alloc(W.recordLength);
    encodeOrder(order(1), buf, 0);
    buf.write('AB\0\0\0\0\0\0\0\0', W.offsetOf('LSH'), 'latin1');
    buf.write('       12.5', W.offsetOf('WTJG'), 'latin1');
    buf.write('           0', W.offsetOf('WTSL'), 'latin1');
    const row = decodeOrder(buf, 0);
    expect(row.LSH).toBe('AB');
    expect(row.WTJG).toBe(12.5);
    expect(row.WTSL).toBe(0);
  });

  it('keeps the return side lenient: blank reads as 0, negatives parse', () => {
    const buf = Buffer.alloc(H.recordLength);
    encodeReturn(ret(1, { CJJG: -3.25 }), buf, 0);
    expect(fieldBytes(buf, H, 'CJJG')).toBe('     -3.250');
    expect(decodeReturn(buf, 0).CJJG).toBe(-3.25);
    buf.write('           ', H.offsetOf('CJJG'), 'latin1');
    expect(decodeReturn(buf, 0).CJJG).toBe(0);
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
