/**
 * The main station's order rules, as pure functions: given an order, what the simulator knows
 * (through RuleContext) and the clock's date, decide whether it is a dropped duplicate or taken,
 * and which returns it produces. No I/O here; the session persists and sends what this decides.
 *
 * Checks, in order (the first that fails gives the rejection, HBLB '1'):
 *   0. a possible-duplicate resend (possDup flag) of a serial number already taken on this
 *      station and day is dropped: OrderAnswer 'duplicate', no return. This comes first so that an
 *      order that was rejected is not rejected a second time when the gateway resends it.
 *   1. JYDY not a unit of the station              E005 交易单元非法
 *   2. WTRQ not today (CST)                        E004 日期非法
 *   3. LSH not 1-10 digits                         E001 流水号非法
 *   4. (JYDY, LSH, day) already taken              E001 流水号非法
 *   5. ZQDM not six digits, prefix not listed, or suspended (suspension does not block a CX)
 *                                                  E002 证券代码非法/已停牌
 *   6. YWLB not 0B/0S/1B/1S/CX; 1B/1S without DFXW or YDH; CX without CDLSH; an order that is not
 *      a CX with WTSL not a positive whole number or WTJG negative
 *                                                  E003 为非法业务
 *   7. CX whose original (JYDY, CDLSH, day) is unknown, was rejected, is itself a CX, is already
 *      cancelled or is fully filled                E001 流水号非法
 *
 * Accepted orders produce HBLB '0', then fills (HBLB '2') by the fill rule:
 *   full     one fill of WTSL at WTJG
 *   half     two fills at WTJG, floor(WTSL/2) then the rest (one fill when WTSL is 1)
 *   confirm  no fill (the order stays open, so a CX can cancel it)
 *   none     same as confirm
 * An accepted CX produces one HBLB '3' return carrying the ORIGINAL order's LSH, ZQDM and GDDM,
 * YWLB 'CX' and CJSL = the quantity cancelled (WTSL minus what was filled).
 */
import { REJECT_CODES, type OrderBody, type ReturnBody } from './codec.js';
import type { FillRule } from './config.js';

export type RejectCode = (typeof REJECT_CODES)[keyof typeof REJECT_CODES];

/** CWXX of each rejection: the words the vendor's gateway shows after 主站错单通知：委托第x笔. */
export const REJECT_TEXT: Readonly<Record<RejectCode, string>> = {
  [REJECT_CODES.SERIAL]: '流水号非法',
  [REJECT_CODES.SECURITY]: '证券代码非法/已停牌',
  [REJECT_CODES.BUSINESS]: '为非法业务',
  [REJECT_CODES.DATE]: '日期非法',
  [REJECT_CODES.UNIT]: '交易单元非法',
};

const BUSINESS_TYPES = new Set(['0B', '0S', '1B', '1S', 'CX']);

/** What the main station remembers of an order it has taken. */
export interface TakenOrder {
  JYDY: string;
  LSH: string;
  YWLB: string;
  ZQDM: string;
  GDDM: string;
  WTJG: number;
  WTSL: number;
  possDup: boolean;
  recNo: number;
  /** Confirmed (HBLB '0' or '3'), as opposed to rejected. */
  accepted: boolean;
}

/** A taken order as it stands now: how much was filled, whether it was cancelled. */
export interface OrderView extends TakenOrder {
  filled: number;
  cancelled: boolean;
}

export interface RuleContext {
  /** Trading units of the station the order came in on. */
  units: readonly string[];
  /** Today, YYYYMMDD CST, and now, HHMMSS CST. */
  today: string;
  time: string;
  listedPrefixes: readonly string[];
  fillRule: FillRule;
  isSuspended(code: string): boolean;
  /** An order already taken today on this station. */
  findOrder(unit: string, lsh: string): OrderView | undefined;
  /** HBXH for the first return this order produces (the rest follow on). */
  nextSeq: number;
  /** Serial of the first fill this order produces, for CJBH (unique per day). */
  nextFill: number;
}

export type Verdict =
  | { kind: 'duplicate' }
  | { kind: 'taken'; order: TakenOrder; returns: ReturnBody[]; reject: RejectCode | null };

const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : NaN);

/** Coerce a decoded order body (any JSON) into an OrderBody: missing strings are '', numbers NaN. */
export function normalizeOrder(raw: unknown): OrderBody {
  const o = (raw ?? {}) as Record<string, unknown>;
  return {
    JYDY: str(o.JYDY),
    WTRQ: str(o.WTRQ),
    WTSJ: str(o.WTSJ),
    LSH: str(o.LSH),
    GDDM: str(o.GDDM),
    ZQDM: str(o.ZQDM),
    YWLB: str(o.YWLB),
    WTJG: num(o.WTJG),
    WTSL: num(o.WTSL),
    DFXW: str(o.DFXW),
    DFGD: str(o.DFGD),
    YDH: str(o.YDH),
    CDLSH: str(o.CDLSH),
    BZ: str(o.BZ),
    recNo: Number.isInteger(o.recNo) ? (o.recNo as number) : 0,
  };
}

export function isListed(code: string, prefixes: readonly string[]): boolean {
  return /^\d{6}$/.test(code) && prefixes.some((p) => code.startsWith(p));
}

/** The original of a cancel, if it can still be cancelled. */
function cancellable(order: OrderBody, ctx: RuleContext): OrderView | undefined {
  const original = ctx.findOrder(order.JYDY, order.CDLSH.trim());
  if (!original || !original.accepted || original.cancelled || original.YWLB === 'CX') return undefined;
  return original.filled < original.WTSL ? original : undefined;
}

/** The first rule the order breaks (checks 1-7 above), or null when it is accepted. */
export function checkOrder(order: OrderBody, ctx: RuleContext): RejectCode | null {
  if (!ctx.units.includes(order.JYDY)) return REJECT_CODES.UNIT;
  if (order.WTRQ !== ctx.today) return REJECT_CODES.DATE;
  if (!/^\d{1,10}$/.test(order.LSH)) return REJECT_CODES.SERIAL;
  if (ctx.findOrder(order.JYDY, order.LSH)) return REJECT_CODES.SERIAL;
  const cancel = order.YWLB === 'CX';
  if (!isListed(order.ZQDM, ctx.listedPrefixes) || (!cancel && ctx.isSuspended(order.ZQDM))) {
    return REJECT_CODES.SECURITY;
  }
  if (!BUSINESS_TYPES.has(order.YWLB)) return REJECT_CODES.BUSINESS;
  if ((order.YWLB === '1B' || order.YWLB === '1S') && (order.DFXW.trim() === '' || order.YDH.trim() === '')) {
    return REJECT_CODES.BUSINESS;
  }
  if (cancel) {
    if (order.CDLSH.trim() === '') return REJECT_CODES.BUSINESS;
    return cancellable(order, ctx) ? null : REJECT_CODES.SERIAL;
  }
  if (!Number.isInteger(order.WTSL) || order.WTSL <= 0 || !(order.WTJG >= 0)) return REJECT_CODES.BUSINESS;
  return null;
}

/** Fill quantities for an accepted order of `qty` under `rule`. */
export function fillQuantities(qty: number, rule: FillRule): number[] {
  switch (rule) {
    case 'full':
      return [qty];
    case 'half': {
      const first = Math.floor(qty / 2);
      return first > 0 ? [first, qty - first] : [qty];
    }
    case 'confirm':
    case 'none':
      return [];
  }
}

/** CJBH: the day and a per-day serial, 16 characters. */
export function fillNumber(day: string, serial: number): string {
  return `${day}${String(serial).padStart(8, '0')}`;
}

/** Decide what happens to one order. */
export function judgeOrder(order: OrderBody, possDup: boolean, ctx: RuleContext): Verdict {
  if (possDup && ctx.findOrder(order.JYDY, order.LSH)) return { kind: 'duplicate' };
  const reject = checkOrder(order, ctx);
  const taken: TakenOrder = {
    JYDY: order.JYDY,
    LSH: order.LSH,
    YWLB: order.YWLB,
    ZQDM: order.ZQDM,
    GDDM: order.GDDM,
    WTJG: Number.isFinite(order.WTJG) ? order.WTJG : 0,
    WTSL: Number.isFinite(order.WTSL) ? order.WTSL : 0,
    possDup,
    recNo: order.recNo,
    accepted: reject === null,
  };
  let seq = ctx.nextSeq;
  const make = (fields: Partial<ReturnBody> & Pick<ReturnBody, 'HBLB'>): ReturnBody => ({
    HBXH: seq++,
    JYDY: order.JYDY,
    HBRQ: ctx.today,
    HBSJ: ctx.time,
    LSH: order.LSH,
    ZQDM: order.ZQDM,
    GDDM: order.GDDM,
    YWLB: order.YWLB,
    CJBH: '',
    CJJG: 0,
    CJSL: 0,
    CWDM: '',
    CWXX: '',
    recNo: order.recNo,
    ...fields,
  });

  if (reject !== null) {
    return {
      kind: 'taken',
      order: taken,
      reject,
      returns: [make({ HBLB: '1', CWDM: reject, CWXX: REJECT_TEXT[reject] })],
    };
  }
  if (order.YWLB === 'CX') {
    const original = cancellable(order, ctx)!;
    const ret = make({
      HBLB: '3',
      LSH: original.LSH,
      ZQDM: original.ZQDM,
      GDDM: original.GDDM,
      CJSL: original.WTSL - original.filled,
    });
    return { kind: 'taken', order: taken, reject, returns: [ret] };
  }
  const returns = [make({ HBLB: '0' })];
  let fill = ctx.nextFill;
  for (const qty of fillQuantities(taken.WTSL, ctx.fillRule)) {
    returns.push(make({ HBLB: '2', CJBH: fillNumber(ctx.today, fill++), CJJG: taken.WTJG, CJSL: qty }));
  }
  return { kind: 'taken', order: taken, reject, returns };
}
