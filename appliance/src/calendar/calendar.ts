import { dayNumber, isoOfDay, isWeekend, yearOf } from './dates.js';
import { CalendarUsageError, CalendarYearUnknownError } from './errors.js';
import { readYearDir, shippedCalendarDir, type YearData } from './data.js';

export type DayKind = 'trading' | 'weekend' | 'holiday' | 'adjusted-working-weekend';

export interface DayInfo {
  date: string;
  kind: DayKind;
  /** The holiday's name for 'holiday'. */
  name?: string;
}

/**
 * The exchanges' trading calendar (SSE, SZSE, BSE and NEEQ close on the same days). A day trades
 * when it is a Monday to Friday and not a listed closure; weekends never trade, the adjusted
 * working weekends (调休) included. Asking about a year without data throws
 * CalendarYearUnknownError: it never guesses.
 */
export class TradingCalendar {
  private readonly years = new Map<number, YearData>();

  /** Later entries replace earlier ones for the same year (operator files override shipped data). */
  constructor(
    years: readonly YearData[],
    readonly operatorDir: string | null = null,
  ) {
    for (const y of years) this.years.set(y.year, y);
  }

  knownYears(): number[] {
    return [...this.years.keys()].sort((a, b) => a - b);
  }

  yearData(year: number): YearData | undefined {
    return this.years.get(year);
  }

  private need(iso: string): YearData {
    if (dayNumber(iso) === null) throw new CalendarUsageError(`not a date (YYYY-MM-DD): '${iso}'`);
    const y = this.years.get(yearOf(iso));
    if (!y) throw new CalendarYearUnknownError(yearOf(iso), this.knownYears(), this.operatorDir);
    return y;
  }

  describeDay(iso: string): DayInfo {
    const y = this.need(iso);
    if (y.adjustedWorkingWeekends.has(iso)) return { date: iso, kind: 'adjusted-working-weekend' };
    if (y.closed.has(iso)) return { date: iso, kind: 'holiday', name: y.names.get(iso) ?? '' };
    if (isWeekend(iso)) return { date: iso, kind: 'weekend' };
    return { date: iso, kind: 'trading' };
  }

  isTradingDay(iso: string): boolean {
    return this.describeDay(iso).kind === 'trading';
  }

  /** Trading days in the closed range [from, to]. Refuses (throws) if any year in it is unknown. */
  tradingDaysBetween(from: string, to: string): string[] {
    const a = dayNumber(from);
    const b = dayNumber(to);
    if (a === null) throw new CalendarUsageError(`not a date (YYYY-MM-DD): '${from}'`);
    if (b === null) throw new CalendarUsageError(`not a date (YYYY-MM-DD): '${to}'`);
    if (b < a) throw new CalendarUsageError(`the range ends (${to}) before it starts (${from})`);
    for (let y = yearOf(from); y <= yearOf(to); y++) {
      if (!this.years.has(y)) throw new CalendarYearUnknownError(y, this.knownYears(), this.operatorDir);
    }
    const days: string[] = [];
    for (let d = a; d <= b; d++) {
      const iso = isoOfDay(d);
      if (this.isTradingDay(iso)) days.push(iso);
    }
    return days;
  }

  countTradingDays(from: string, to: string): number {
    return this.tradingDaysBetween(from, to).length;
  }

  /**
   * The n-th trading day counting `from` as the first when it trades (n >= 1). Used for "the
   * last day a window of n trading days may reach". Throws on an unknown year on the way.
   */
  nthTradingDay(from: string, n: number): string {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`n must be a whole number >= 1, got ${n}`);
    let d = dayNumber(from);
    if (d === null) throw new CalendarUsageError(`not a date (YYYY-MM-DD): '${from}'`);
    let seen = 0;
    for (;;) {
      const iso = isoOfDay(d);
      if (this.isTradingDay(iso)) {
        seen++;
        if (seen === n) return iso;
      }
      d++;
    }
  }
}

export interface LoadCalendarOptions {
  /** Operator's directory of YYYY.json files; these replace shipped years. Missing dir = none. */
  operatorDir?: string | null;
  /** Shipped data directory (default: appliance/data/calendar). */
  shippedDir?: string;
}

export function loadTradingCalendar(options: LoadCalendarOptions = {}): TradingCalendar {
  const shipped = readYearDir(options.shippedDir ?? shippedCalendarDir(), 'shipped');
  const operatorDir = options.operatorDir ?? null;
  const operator = operatorDir === null ? [] : readYearDir(operatorDir, 'operator');
  return new TradingCalendar([...shipped, ...operator], operatorDir);
}
