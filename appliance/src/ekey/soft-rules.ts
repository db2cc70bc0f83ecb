import { dayNumber, type TradingCalendar } from '../calendar/index.js';
import type { LedgerRecord } from './soft-ledger.js';
import { SOFT_REFUSAL, SoftRefusedError, SoftUsageError } from './soft-errors.js';
import { SOFT_MAX_TRADING_DAYS } from './soft-settings.js';

/**
 * The soft-encryption rules as pure functions of the ledger's records, the calendar and today's
 * exchange date (YYYY-MM-DD, CST). Nothing here touches the disk or the clock.
 */
export interface SoftWindow {
  id: number;
  start: string;
  end: string;
  reason: string;
  operator: string;
  appliedAt: number;
  /** Trading days in [start, end] when applied. */
  tradingDays: number;
  /** date → who confirmed that day's application to 深证通, and when. */
  confirmations: Map<string, { operator: string; at: number }>;
  closed: { operator: string; at: number; why: 'operator' | 'ekey' } | null;
}

/** Windows in the order applied. */
export function windowsOf(records: readonly LedgerRecord[]): SoftWindow[] {
  const byId = new Map<number, SoftWindow>();
  for (const r of records) {
    if (r.t === 'apply') {
      byId.set(r.id, {
        id: r.id,
        start: r.start,
        end: r.end,
        reason: r.reason,
        operator: r.operator,
        appliedAt: r.at,
        tradingDays: r.tradingDays,
        confirmations: new Map(),
        closed: null,
      });
      continue;
    }
    const w = byId.get(r.id);
    if (!w) continue;
    if (r.t === 'confirm') w.confirmations.set(r.date, { operator: r.operator, at: r.at });
    else w.closed = { operator: r.operator, at: r.at, why: r.why };
  }
  return [...byId.values()].sort((a, b) => a.id - b.id);
}

/** The window not closed whose end is today or later (open now, or starting later), if any. */
export function liveWindow(windows: readonly SoftWindow[], today: string): SoftWindow | null {
  for (let i = windows.length - 1; i >= 0; i--) {
    const w = windows[i];
    if (w && w.closed === null && w.end >= today) return w;
  }
  return null;
}

export interface ApplyRequest {
  start: string;
  end: string;
  reason: string;
  operator: string;
}

/** Check an application; returns the trading-day count of the window, or throws the refusal. */
export function checkApply(
  req: ApplyRequest,
  windows: readonly SoftWindow[],
  calendar: TradingCalendar,
  today: string,
): number {
  if (dayNumber(req.start) === null)
    throw new SoftUsageError(`--start: not a date (YYYY-MM-DD): '${req.start}'`);
  if (dayNumber(req.end) === null) throw new SoftUsageError(`--end: not a date (YYYY-MM-DD): '${req.end}'`);
  if (req.reason.trim() === '')
    throw new SoftUsageError('--reason: say why soft encryption is needed (申请软加密的原因)');
  if (req.operator.trim() === '') throw new SoftUsageError('--operator: say who you are');
  if (req.end < req.start) {
    throw new SoftRefusedError(
      SOFT_REFUSAL.BAD_WINDOW,
      `软加密有效期有误: 结束日 ${req.end} 早于开始日 ${req.start}`,
    );
  }
  if (req.start < today) {
    throw new SoftRefusedError(
      SOFT_REFUSAL.BAD_WINDOW,
      `软加密有效期有误: 开始日 ${req.start} 早于今天 ${today}`,
      'A window starts today at the earliest.',
    );
  }
  const live = liveWindow(windows, today);
  if (live) {
    throw new SoftRefusedError(
      SOFT_REFUSAL.ALREADY_OPEN,
      `已有软加密申请 #${live.id} (${live.start} 至 ${live.end}) 未关闭`,
      'Close it first (nqgw softkey close) if the new application replaces it.',
    );
  }
  const n = calendar.countTradingDays(req.start, req.end);
  if (n === 0) {
    throw new SoftRefusedError(
      SOFT_REFUSAL.BAD_WINDOW,
      `软加密有效期 ${req.start} 至 ${req.end} 内没有交易日`,
      'Soft encryption is only needed on trading days.',
    );
  }
  if (n > SOFT_MAX_TRADING_DAYS) {
    const last = calendar.nthTradingDay(req.start, SOFT_MAX_TRADING_DAYS);
    throw new SoftRefusedError(
      SOFT_REFUSAL.TOO_LONG,
      `软加密只能作临时应急使用，其有效期最长不超过${SOFT_MAX_TRADING_DAYS}个交易日: ${req.start} 至 ${req.end} 含 ${n} 个交易日`,
      `The latest end for a window starting ${req.start} is ${last}. Get the EKey or the spare EKey back in service.`,
    );
  }
  return n;
}

/** Where a window stands on a given day. */
export interface WindowDay {
  /** 1-based position of today among the window's trading days; 0 when today does not trade. */
  dayIndex: number;
  /** Trading days in the window counted on today's calendar. */
  tradingDays: number;
  /** Trading days left after today (within the window and the 10-day limit). */
  remaining: number;
  /** The window's last usable trading day (end, or the 10th trading day if that comes first). */
  lastTradingDay: string | null;
}

export function windowDay(w: SoftWindow, calendar: TradingCalendar, today: string): WindowDay {
  const days = calendar.tradingDaysBetween(w.start, w.end).slice(0, SOFT_MAX_TRADING_DAYS);
  const idx = days.indexOf(today);
  const after = days.filter((d) => d > today).length;
  return {
    dayIndex: idx + 1,
    tradingDays: calendar.countTradingDays(w.start, w.end),
    remaining: after,
    lastTradingDay: days[days.length - 1] ?? null,
  };
}

/**
 * Whether today may log on in soft mode: a live window covering today, today a trading day
 * within the window's first 10 trading days, and today's application confirmed. Throws the
 * refusal otherwise.
 */
export function checkSoftToday(
  windows: readonly SoftWindow[],
  calendar: TradingCalendar,
  today: string,
  needConfirmation: boolean,
): { window: SoftWindow; day: WindowDay } {
  const w = liveWindow(windows, today);
  if (!w || w.start > today) {
    throw new SoftRefusedError(
      SOFT_REFUSAL.NO_WINDOW,
      w
        ? `软加密申请 #${w.id} 自 ${w.start} 起有效, 今天 ${today} 不能使用软加密`
        : `今天 ${today} 没有有效的软加密申请`,
      'Apply to 深证通 and record it: nqgw softkey apply --start ... --end ... --reason ... --operator ...',
    );
  }
  if (!calendar.isTradingDay(today)) {
    throw new SoftRefusedError(SOFT_REFUSAL.NOT_TRADING_DAY, `今天 ${today} 不是交易日, 不需要软加密`);
  }
  const day = windowDay(w, calendar, today);
  if (day.dayIndex === 0) {
    throw new SoftRefusedError(
      SOFT_REFUSAL.EXPIRED,
      `软加密有效期最长不超过${SOFT_MAX_TRADING_DAYS}个交易日: 申请 #${w.id} 的最后一个交易日是 ${day.lastTradingDay ?? '-'}`,
      'Use the EKey or the spare EKey; a new window needs a new application to 深证通.',
    );
  }
  if (needConfirmation && !w.confirmations.has(today)) {
    throw new SoftRefusedError(
      SOFT_REFUSAL.NOT_CONFIRMED,
      `今天 ${today} 尚未确认已向深证通申请开通软加密 (主站端的软加密设置仅限当天有效)`,
      'Call 深证通 for today, then: nqgw softkey confirm-today --config F --operator NAME',
    );
  }
  return { window: w, day };
}
