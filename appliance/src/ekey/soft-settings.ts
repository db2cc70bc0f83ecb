import { isAbsolute, join, resolve, dirname } from 'node:path';
import type { TwConfig } from '../config/index.js';
import { SoftUsageError } from './soft-errors.js';

/** The rule on 深证通's application form: soft encryption lasts at most 10 trading days. */
export const SOFT_MAX_TRADING_DAYS = 10;

/**
 * tw.ini `[soft]` (all optional; relative paths against the directory of tw.ini):
 *
 *   [soft]
 *   ledger = state/soft-ledger.jsonl   ; default: <state_dir>/soft-ledger.jsonl
 *   calendar_dir = calendar            ; operator calendar files YYYY.json; default <state_dir>/calendar
 *   warn_trading_days = 2              ; alarm when this many trading days (or fewer) are left, 0-9
 */
export interface SoftSettings {
  ledger: string;
  calendarDir: string;
  warnTradingDays: number;
}

export function softSettingsFromConfig(config: TwConfig): SoftSettings {
  const raw = config.extra['soft'] ?? {};
  const base = dirname(config.source);
  const path = (value: string | undefined, fallback: string): string =>
    value === undefined || value.trim() === '' ? fallback : isAbsolute(value) ? value : resolve(base, value);
  const warnText = raw['warn_trading_days'];
  let warn = 2;
  if (warnText !== undefined && warnText.trim() !== '') {
    if (!/^\d+$/.test(warnText.trim()) || Number(warnText) > SOFT_MAX_TRADING_DAYS - 1) {
      throw new SoftUsageError(
        `[soft] warn_trading_days: expected 0 to ${SOFT_MAX_TRADING_DAYS - 1}, got '${warnText}'`,
        `Fix ${config.source}.`,
      );
    }
    warn = Number(warnText);
  }
  return {
    ledger: path(raw['ledger'], join(config.files.stateDir, 'soft-ledger.jsonl')),
    calendarDir: path(raw['calendar_dir'], join(config.files.stateDir, 'calendar')),
    warnTradingDays: warn,
  };
}
