import { describe, expect, it } from 'vitest';
import {
  checkOrder,
  fillNumber,
  fillQuantities,
  judgeOrder,
  normalizeOrder,
  type OrderView,
  type RuleContext,
} from '../../../appliance/src/sim/index.js';

const TODAY = '20261123';

function order(fields: Record<string, unknown> = {}): ReturnType<typeof normalizeOrder> {
  return normalizeOrder({
    JYDY: '729900',
    WTRQ: TODAY,
    WTSJ: '093000',
    LSH: '1',
    GDDM: '0123456789',
    ZQDM: '430001',
    YWLB: '0B',
    WTJG: 10.5,
    WTSL: 1000,
    DFXW: '',
    DFGD: '',
    YDH: '',
    CDLSH: '',
    BZ: '',
    recNo: 7,
    ...fields,
  });
}

function view(fields: Partial<OrderView> = {}): OrderView {
  return {
    JYDY: '729900',
    LSH: '1',
    YWLB: '0B',
    ZQDM: '430001',
    GDDM: '0123456789',
    WTJG: 10.5,
    WTSL: 1000,
    possDup: false,
    recNo: 1,
    accepted: true,
    filled: 0,
    cancelled: false,
    ...fields,
  };
}

function ctx(over: Partial<RuleContext> & { taken?: OrderView[]; suspended?: string[] } = {}): RuleContext {
  const taken = over.taken ?? [];
  const suspended = new Set(over.suspended ?? []);
  return {
    units: ['729900', '729901'],
    today: TODAY,
    time: '093001',
    listedPrefixes: ['43', '83', '87'],
    fillRule: 'full',
    isSuspended: (code) => suspended.has(code),
    findOrder: (unit, lsh) => taken.find((o) => o.JYDY === unit && o.LSH === lsh),
    nextSeq: 1,
    nextFill: 1,
    ...over,
  };
}

describe('checkOrder: each rejection, in order', () => {
  it('accepts a plain listed buy', () => {
    expect(checkOrder(order(), ctx())).toBeNull();
  });
  it('E005 for a unit not of the station, before anything else', () => {
    expect(checkOrder(order({ JYDY: '123456', WTRQ: '20000101', LSH: 'x' }), ctx())).toBe('E005');
  });
  it('E004 for a date that is not today (CST)', () => {
    expect(checkOrder(order({ WTRQ: '20261122' }), ctx())).toBe('E004');
    expect(checkOrder(order({ WTRQ: '20261122', LSH: 'bad' }), ctx())).toBe('E004');
  });
  it('E001 for a serial number that is not 1-10 digits', () => {
    for (const LSH of ['', 'A1', '12345678901', ' 1', '-1']) {
      expect(checkOrder(order({ LSH }), ctx()), LSH).toBe('E001');
    }
    expect(checkOrder(order({ LSH: '1234567890' }), ctx())).toBeNull();
  });
  it('E001 for a serial number already taken today on the unit', () => {
    expect(checkOrder(order({ LSH: '1' }), ctx({ taken: [view({ LSH: '1' })] }))).toBe('E001');
    expect(checkOrder(order({ LSH: '1', JYDY: '729901' }), ctx({ taken: [view({ LSH: '1' })] }))).toBeNull();
  });
  it('E002 for a code that is malformed, not listed or suspended', () => {
    expect(checkOrder(order({ ZQDM: '43000' }), ctx())).toBe('E002');
    expect(checkOrder(order({ ZQDM: '600000' }), ctx())).toBe('E002');
    expect(checkOrder(order({ ZQDM: '830001' }), ctx())).toBeNull();
    expect(checkOrder(order({ ZQDM: '870001' }), ctx())).toBeNull();
    expect(checkOrder(order({ ZQDM: '430001' }), ctx({ suspended: ['430001'] }))).toBe('E002');
  });
  it('E003 for an unknown business type or missing negotiated-trade fields', () => {
    expect(checkOrder(order({ YWLB: '2B' }), ctx())).toBe('E003');
    expect(checkOrder(order({ YWLB: '1B', DFXW: '729902' }), ctx())).toBe('E003');
    expect(checkOrder(order({ YWLB: '1S', YDH: '000001' }), ctx())).toBe('E003');
    expect(checkOrder(order({ YWLB: '1B', DFXW: '729902', YDH: '000001' }), ctx())).toBeNull();
    expect(checkOrder(order({ YWLB: 'CX', CDLSH: '  ' }), ctx())).toBe('E003');
  });
  it('E003 for a quantity that is not a positive whole number', () => {
    expect(checkOrder(order({ WTSL: 0 }), ctx())).toBe('E003');
    expect(checkOrder(order({ WTSL: 1.5 }), ctx())).toBe('E003');
    expect(checkOrder(order({ WTSL: 'x' }), ctx())).toBe('E003');
  });
  it('E002 comes before E003', () => {
    expect(checkOrder(order({ ZQDM: '600000', YWLB: 'ZZ' }), ctx())).toBe('E002');
  });
});

describe('judgeOrder', () => {
  it('confirms and fills in full at the order price', () => {
    const v = judgeOrder(order(), false, ctx({ nextSeq: 5, nextFill: 3 }));
    expect(v.kind).toBe('taken');
    if (v.kind !== 'taken') return;
    expect(v.reject).toBeNull();
    expect(v.order).toMatchObject({ JYDY: '729900', LSH: '1', accepted: true, possDup: false, recNo: 7 });
    expect(v.returns.map((r) => [r.HBXH, r.HBLB, r.CJSL, r.CJJG, r.CJBH])).toEqual([
      [5, '0', 0, 0, ''],
      [6, '2', 1000, 10.5, `${TODAY}00000003`],
    ]);
    expect(v.returns[0]).toMatchObject({ HBRQ: TODAY, HBSJ: '093001', recNo: 7, ZQDM: '430001', YWLB: '0B' });
  });
  it('half: two fills that add up to the quantity, unique CJBH', () => {
    const v = judgeOrder(order({ WTSL: 1001 }), false, ctx({ fillRule: 'half' }));
    if (v.kind !== 'taken') throw new Error('expected taken');
    const fills = v.returns.filter((r) => r.HBLB === '2');
    expect(fills.map((f) => f.CJSL)).toEqual([500, 501]);
    expect(new Set(fills.map((f) => f.CJBH)).size).toBe(2);
    expect(v.returns.map((r) => r.HBXH)).toEqual([1, 2, 3]);
  });
  it('confirm and none: confirmation only', () => {
    for (const fillRule of ['confirm', 'none'] as const) {
      const v = judgeOrder(order(), false, ctx({ fillRule }));
      if (v.kind !== 'taken') throw new Error('expected taken');
      expect(v.returns.map((r) => r.HBLB)).toEqual(['0']);
    }
  });
  it('rejects with one HBLB 1 return carrying code and Chinese text', () => {
    const cases: [Record<string, unknown>, string, string][] = [
      [{ JYDY: '111111' }, 'E005', '交易单元非法'],
      [{ WTRQ: '20261122' }, 'E004', '日期非法'],
      [{ LSH: 'abc' }, 'E001', '流水号非法'],
      [{ ZQDM: '600000' }, 'E002', '证券代码非法/已停牌'],
      [{ YWLB: 'QQ' }, 'E003', '为非法业务'],
    ];
    for (const [fields, code, text] of cases) {
      const v = judgeOrder(order(fields), false, ctx({ nextSeq: 9 }));
      if (v.kind !== 'taken') throw new Error('expected taken');
      expect(v.reject).toBe(code);
      expect(v.order.accepted).toBe(false);
      expect(v.returns).toHaveLength(1);
      expect(v.returns[0]).toMatchObject({ HBXH: 9, HBLB: '1', CWDM: code, CWXX: text, recNo: 7 });
    }
  });
  it('drops a possible duplicate of a taken serial number, rejects a plain repeat', () => {
    const c = ctx({ taken: [view({ LSH: '42' })] });
    expect(judgeOrder(order({ LSH: '42' }), true, c)).toEqual({ kind: 'duplicate' });
    const plain = judgeOrder(order({ LSH: '42' }), false, c);
    expect(plain.kind === 'taken' && plain.reject).toBe('E001');
  });
  it('drops a possible duplicate of an order that was rejected (no second rejection)', () => {
    const c = ctx({ taken: [view({ JYDY: '111111', LSH: '3', accepted: false })] });
    expect(judgeOrder(order({ JYDY: '111111', LSH: '3' }), true, c)).toEqual({ kind: 'duplicate' });
  });
  it('takes a possible duplicate that was never seen as a new order', () => {
    const v = judgeOrder(order({ LSH: '43' }), true, ctx());
    expect(v.kind).toBe('taken');
    if (v.kind === 'taken') expect(v.order.possDup).toBe(true);
  });
});

describe('cancels (CX)', () => {
  const cx = (CDLSH: string, LSH = '100'): ReturnType<typeof normalizeOrder> =>
    order({ YWLB: 'CX', CDLSH, LSH, WTSL: 0, recNo: 9 });

  it('cancels the open rest of an order: HBLB 3 under the original serial number', () => {
    const c = ctx({ taken: [view({ LSH: '5', WTSL: 1000, filled: 300, ZQDM: '830001' })], nextSeq: 4 });
    const v = judgeOrder(cx('5'), false, c);
    if (v.kind !== 'taken') throw new Error('expected taken');
    expect(v.reject).toBeNull();
    expect(v.returns).toHaveLength(1);
    expect(v.returns[0]).toMatchObject({
      HBXH: 4,
      HBLB: '3',
      LSH: '5',
      YWLB: 'CX',
      CJSL: 700,
      ZQDM: '830001',
      recNo: 9,
    });
  });
  it('rejects E001 when the original is unknown, fully filled, cancelled, rejected or a cancel', () => {
    const originals = [
      view({ LSH: '6', filled: 1000 }),
      view({ LSH: '7', cancelled: true }),
      view({ LSH: '8', accepted: false }),
      view({ LSH: '9', YWLB: 'CX' }),
    ];
    for (const cd of ['404', '6', '7', '8', '9']) {
      const v = judgeOrder(cx(cd), false, ctx({ taken: originals }));
      expect(v.kind === 'taken' && v.reject, cd).toBe('E001');
    }
  });
  it('a cancel is not blocked by a suspension', () => {
    const c = ctx({ taken: [view({ LSH: '5' })], suspended: ['430001'] });
    expect(checkOrder(cx('5'), c)).toBeNull();
  });
});

describe('fill helpers', () => {
  it('splits quantities', () => {
    expect(fillQuantities(100, 'full')).toEqual([100]);
    expect(fillQuantities(100, 'half')).toEqual([50, 50]);
    expect(fillQuantities(1, 'half')).toEqual([1]);
    expect(fillQuantities(100, 'none')).toEqual([]);
  });
  it('makes 16-character fill numbers', () => {
    expect(fillNumber(TODAY, 12)).toBe('2026112300000012');
    expect(fillNumber(TODAY, 12)).toHaveLength(16);
  });
  it('normalizes junk into empty fields', () => {
    expect(normalizeOrder(null)).toMatchObject({ JYDY: '', LSH: '', recNo: 0 });
    expect(Number.isNaN(normalizeOrder({ WTSL: '5' }).WTSL)).toBe(true);
  });
});
