import { AppError } from '../shared/index.js';

/**
 * Asked about a date in a year for which neither the shipped data nor an operator file gives the
 * exchange's closures. The calendar refuses rather than guessing from weekdays alone: one missed
 * holiday would let a soft-encryption window run past its 10 trading days.
 */
export class CalendarYearUnknownError extends AppError {
  constructor(
    readonly year: number,
    readonly knownYears: readonly number[],
    readonly operatorDir: string | null,
  ) {
    super(
      'NQ151',
      `交易日历没有 ${year} 年的休市数据 (no exchange closure data for ${year}; known years: ${
        knownYears.length > 0 ? knownYears.join(', ') : 'none'
      })`,
      operatorDir === null
        ? `Write ${year}.json (the exchange's published closures for ${year}) into an operator calendar directory and pass it (--calendar-dir, or [soft] calendar_dir in tw.ini); see docs/ekey.md.`
        : `Write ${year}.json (the exchange's published closures for ${year}) into ${operatorDir}; see docs/ekey.md.`,
    );
  }
}

/** A calendar data file (shipped or operator's) that cannot be used; nothing from it is taken. */
export class CalendarDataError extends AppError {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(
      'NQ152',
      `交易日历文件有误: ${file}: ${problem}`,
      'Fix the file (format in docs/ekey.md) or remove it.',
    );
  }
}

/** A date argument that is not a real `YYYY-MM-DD`, or a range that ends before it starts. */
export class CalendarUsageError extends AppError {
  constructor(message: string) {
    super('NQ153', message, 'Dates are YYYY-MM-DD (China Standard Time), --from not after --to.');
  }
}
