import { cstIsoDate, loadTradingCalendar, type TradingCalendar } from '../calendar/index.js';
import type { TwConfig } from '../config/index.js';
import { AppError, formatMessage, type Clock, systemClock } from '../shared/index.js';
import { SoftLedger } from './soft-ledger.js';
import { SOFT_REFUSAL, SoftRefusedError, SoftUsageError } from './soft-errors.js';
import {
  checkApply,
  checkSoftToday,
  liveWindow,
  windowDay,
  windowsOf,
  type ApplyRequest,
  type SoftWindow,
  type WindowDay,
} from './soft-rules.js';
import { softSettingsFromConfig, type SoftSettings } from './soft-settings.js';

/** `小站使用软加密`: what the gateway logs while it logs on in soft mode. */
export const SOFT_IN_USE_MESSAGE = formatMessage('NQ104_SOFT_ENCRYPTION');

export interface SoftStatus {
  today: string;
  todayTrading: boolean | null;
  window: {
    id: number;
    start: string;
    end: string;
    reason: string;
    operator: string;
    appliedAt: string;
    tradingDays: number;
    dayIndex: number;
    remaining: number;
    lastTradingDay: string | null;
    confirmedToday: { operator: string; at: string } | null;
    confirmations: string[];
  } | null;
  allowedToday: boolean;
  /** Why soft mode may not be used today (code and words), when it may not. */
  refusal: { code: string; message: string; hint?: string } | null;
  /** Alarm ahead of the window's end. */
  alarm: string | null;
  ledger: string;
  tornTail: boolean;
}

export type SoftTodayResult =
  | { ok: true; window: SoftWindow; day: WindowDay; alarm: string | null; message: string }
  | { ok: false; error: AppError };

/**
 * The soft-encryption window kept in the ledger, with its rules. Every method reads the ledger
 * afresh (it is small), so separate processes (the CLI, the gateway) agree on one file.
 */
export class SoftEncryption {
  readonly ledger: SoftLedger;

  constructor(
    readonly settings: SoftSettings,
    readonly calendar: TradingCalendar,
    private readonly clock: Clock = systemClock,
  ) {
    this.ledger = new SoftLedger(settings.ledger);
  }

  static fromConfig(config: TwConfig, clock: Clock = systemClock): SoftEncryption {
    const settings = softSettingsFromConfig(config);
    return new SoftEncryption(settings, loadTradingCalendar({ operatorDir: settings.calendarDir }), clock);
  }

  today(): string {
    return cstIsoDate(this.clock.now());
  }

  windows(): SoftWindow[] {
    return windowsOf(this.ledger.read().records);
  }

  /** Record an application to 深证通; refuses beyond 10 trading days or while one is live. */
  apply(req: ApplyRequest): SoftWindow {
    return this.ledger.withLock(() => {
      const windows = this.windows();
      const today = this.today();
      const tradingDays = checkApply(req, windows, this.calendar, today);
      const id = (windows[windows.length - 1]?.id ?? 0) + 1;
      const at = this.clock.now();
      this.ledger.append({
        t: 'apply',
        id,
        start: req.start,
        end: req.end,
        reason: req.reason.trim(),
        operator: req.operator.trim(),
        at,
        tradingDays,
      });
      const w = windowsOf(this.ledger.read().records).find((x) => x.id === id);
      if (!w) throw new AppError('NQ170', 'soft-encryption ledger did not keep the application');
      return w;
    });
  }

  /** The operator confirms today's application to 深证通 was made. Idempotent within a day. */
  confirmToday(operator: string): { window: SoftWindow; day: WindowDay; already: boolean } {
    if (operator.trim() === '') throw new SoftUsageError('--operator: say who you are');
    return this.ledger.withLock(() => {
      const today = this.today();
      const { window, day } = checkSoftToday(this.windows(), this.calendar, today, false);
      if (window.confirmations.has(today)) return { window, day, already: true };
      const at = this.clock.now();
      this.ledger.append({ t: 'confirm', id: window.id, date: today, operator: operator.trim(), at });
      window.confirmations.set(today, { operator: operator.trim(), at });
      return { window, day, already: false };
    });
  }

  /** Close the live window (the operator's decision, or the EKey is back). */
  close(operator: string, why: 'operator' | 'ekey' = 'operator'): SoftWindow {
    return this.ledger.withLock(() => {
      const today = this.today();
      const w = liveWindow(this.windows(), today);
      if (!w) {
        throw new SoftRefusedError(SOFT_REFUSAL.NO_WINDOW, '没有未关闭的软加密申请', 'Nothing to close.');
      }
      const at = this.clock.now();
      this.ledger.append({ t: 'close', id: w.id, operator: operator.trim() || 'system', at, why });
      w.closed = { operator, at, why };
      return w;
    });
  }

  /** May the gateway log on in soft mode now? Never throws for the rules' answer. */
  allowedToday(): SoftTodayResult {
    try {
      const today = this.today();
      const { window, day } = checkSoftToday(this.windows(), this.calendar, today, true);
      return { ok: true, window, day, alarm: this.alarmFor(day), message: SOFT_IN_USE_MESSAGE };
    } catch (err) {
      if (err instanceof AppError) return { ok: false, error: err };
      throw err;
    }
  }

  private alarmFor(day: WindowDay): string | null {
    if (day.remaining > this.settings.warnTradingDays) return null;
    return day.remaining === 0
      ? `软加密有效期今天 (${day.lastTradingDay ?? '-'}) 结束: 下一个交易日必须使用Ekey或备用Ekey`
      : `软加密有效期将于 ${day.lastTradingDay ?? '-'} 结束, 剩余 ${day.remaining} 个交易日: 请尽快恢复Ekey或备用Ekey`;
  }

  status(): SoftStatus {
    const read = this.ledger.read();
    const windows = windowsOf(read.records);
    const today = this.today();
    let todayTrading: boolean | null = null;
    try {
      todayTrading = this.calendar.isTradingDay(today);
    } catch {
      todayTrading = null;
    }
    const live = liveWindow(windows, today);
    const allowed = this.allowedToday();
    let window: SoftStatus['window'] = null;
    if (live) {
      let day: WindowDay = { dayIndex: 0, tradingDays: live.tradingDays, remaining: 0, lastTradingDay: null };
      try {
        day = windowDay(live, this.calendar, today);
      } catch {
        /* calendar cannot say (unknown year): the refusal below explains */
      }
      const c = live.confirmations.get(today);
      window = {
        id: live.id,
        start: live.start,
        end: live.end,
        reason: live.reason,
        operator: live.operator,
        appliedAt: new Date(live.appliedAt).toISOString(),
        tradingDays: day.tradingDays,
        dayIndex: day.dayIndex,
        remaining: day.remaining,
        lastTradingDay: day.lastTradingDay,
        confirmedToday: c ? { operator: c.operator, at: new Date(c.at).toISOString() } : null,
        confirmations: [...live.confirmations.keys()].sort(),
      };
    }
    return {
      today,
      todayTrading,
      window,
      allowedToday: allowed.ok,
      refusal: allowed.ok
        ? null
        : {
            code: allowed.error.code,
            message: allowed.error.message,
            ...(allowed.error.hint ? { hint: allowed.error.hint } : {}),
          },
      alarm: allowed.ok ? allowed.alarm : null,
      ledger: this.settings.ledger,
      tornTail: read.tornTail,
    };
  }
}

/**
 * The gateway's guard before a soft-mode (tw.ini `[tls] mode = soft`) logon: ok with the
 * window and the line to log (`小站使用软加密`, plus an alarm near the window's end), or the
 * typed refusal whose message says why. Loading the calendar or the ledger failing is a refusal
 * too (no soft logon on a damaged audit trail).
 */
export function softModeAllowedToday(config: TwConfig, now: number | Clock = systemClock): SoftTodayResult {
  const clock: Clock = typeof now === 'number' ? { now: () => now } : now;
  try {
    return SoftEncryption.fromConfig(config, clock).allowedToday();
  } catch (err) {
    if (err instanceof AppError) return { ok: false, error: err };
    throw err;
  }
}

/**
 * Going back to the EKey closes the window: call after a successful EKey logon. Returns the
 * closed window, or null when none was live. Never throws on the rules (there may be none).
 */
export function closeSoftWindowOnEkey(
  config: TwConfig,
  now: number | Clock = systemClock,
): SoftWindow | null {
  const clock: Clock = typeof now === 'number' ? { now: () => now } : now;
  const soft = SoftEncryption.fromConfig(config, clock);
  if (!liveWindow(soft.windows(), soft.today())) return null;
  return soft.close('system', 'ekey');
}
