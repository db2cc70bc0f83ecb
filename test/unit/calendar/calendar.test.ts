import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CalendarDataError,
  CalendarUsageError,
  CalendarYearUnknownError,
  addDays,
  loadTradingCalendar,
  parseYearFile,
  weekday,
} from '../../../appliance/src/calendar/index.js';
import { runCalendarCount } from '../../../appliance/src/cli/calendar.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nqgw-cal-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const YEAR_2027 = {
  year: 2027,
  source: 'test fixture (not the real 2027 schedule)',
  closures: [{ from: '2027-01-01', to: '2027-01-01', name: '元旦' }],
  adjustedWorkingWeekends: ['2027-01-03'],
};

describe('dates', () => {
  it('knows the weekday and crosses month and year ends', () => {
    expect(weekday('2025-01-01')).toBe(3); // Wednesday
    expect(weekday('2024-02-18')).toBe(0); // Sunday
    expect(addDays('2024-12-31', 1)).toBe('2025-01-01');
    expect(addDays('2024-03-01', -1)).toBe('2024-02-29');
  });
});

describe('shipped data (2024, 2025, 2026)', () => {
  const cal = loadTradingCalendar();

  it('ships exactly the years stated with confidence', () => {
    expect(cal.knownYears()).toEqual([2024, 2025, 2026]);
  });

  it('has the published number of trading days per year (242 in 2024, 243 in 2025)', () => {
    expect(cal.countTradingDays('2024-01-01', '2024-12-31')).toBe(242);
    expect(cal.countTradingDays('2025-01-01', '2025-12-31')).toBe(243);
  });

  it('2026: 261 weekdays less the 19 weekday closures of the exchanges\' notice is 242', () => {
    expect(cal.countTradingDays('2026-01-01', '2026-12-31')).toBe(242);
    // 春节: Fri 13 Feb trades, Sat 14 adjusted working day, 15-23 closed, Tue 24 trades.
    expect(cal.tradingDaysBetween('2026-02-13', '2026-02-24')).toEqual(['2026-02-13', '2026-02-24']);
    expect(cal.describeDay('2026-02-28').kind).toBe('adjusted-working-weekend');
  });

  it('counts across a weekend: Fri 2025-03-07 to Mon 2025-03-10 is 2 trading days', () => {
    expect(cal.countTradingDays('2025-03-07', '2025-03-10')).toBe(2);
    expect(cal.describeDay('2025-03-08').kind).toBe('weekend');
  });

  it('counts across a holiday: 2025-09-29 to 2025-10-10 (国庆/中秋) is 4 trading days', () => {
    // Mon 29, Tue 30 trade; Oct 1-8 closed; Thu 9, Fri 10 trade.
    expect(cal.tradingDaysBetween('2025-09-29', '2025-10-10')).toEqual([
      '2025-09-29',
      '2025-09-30',
      '2025-10-09',
      '2025-10-10',
    ]);
    expect(cal.describeDay('2025-10-08')).toEqual({
      date: '2025-10-08',
      kind: 'holiday',
      name: '国庆节、中秋节',
    });
  });

  it('does not trade on adjusted working weekends (调休上班日)', () => {
    for (const d of ['2025-01-26', '2025-02-08', '2025-09-28', '2025-10-11', '2024-02-04', '2024-10-12']) {
      expect(cal.describeDay(d).kind, d).toBe('adjusted-working-weekend');
      expect(cal.isTradingDay(d), d).toBe(false);
    }
  });

  it('counts across a year end and the 春节 closure', () => {
    // 2024-12-30 Mon, 31 Tue; 2025-01-01 closed; 2, 3 trade.
    expect(cal.countTradingDays('2024-12-30', '2025-01-05')).toBe(4);
    // 2025-01-27 Mon trades; 28 Jan - 4 Feb closed; 5 Feb Wed trades.
    expect(cal.countTradingDays('2025-01-25', '2025-02-05')).toBe(2);
  });

  it('finds the n-th trading day', () => {
    expect(cal.nthTradingDay('2025-09-29', 10)).toBe('2025-10-20');
    expect(cal.nthTradingDay('2025-10-04', 1)).toBe('2025-10-09');
  });

  it('refuses a year without data instead of guessing', () => {
    expect(() => cal.countTradingDays('2026-12-28', '2027-01-05')).toThrow(CalendarYearUnknownError);
    expect(() => cal.isTradingDay('2023-06-01')).toThrow(/没有 2023 年的休市数据/);
  });

  it('rejects bad dates and a backwards range', () => {
    expect(() => cal.countTradingDays('2025-02-30', '2025-03-01')).toThrow(CalendarUsageError);
    expect(() => cal.countTradingDays('2025-03-02', '2025-03-01')).toThrow(CalendarUsageError);
  });
});

describe('operator files', () => {
  it('adds a year from the operator directory', () => {
    writeFileSync(join(dir, '2027.json'), JSON.stringify(YEAR_2027));
    const cal = loadTradingCalendar({ operatorDir: dir });
    expect(cal.knownYears()).toEqual([2024, 2025, 2026, 2027]);
    // Thu 2026-12-31 trades; Fri Jan 1 closed; Sun Jan 3 adjusted (no trading); Mon 4 trades.
    expect(cal.countTradingDays('2026-12-31', '2027-01-04')).toBe(2);
    expect(cal.yearData(2027)?.origin).toBe('operator');
  });

  it('replaces a shipped year when the operator supplies it', () => {
    writeFileSync(
      join(dir, '2025.json'),
      JSON.stringify({
        year: 2025,
        source: 'operator correction',
        closures: [],
        adjustedWorkingWeekends: [],
      }),
    );
    const cal = loadTradingCalendar({ operatorDir: dir });
    expect(cal.isTradingDay('2025-10-08')).toBe(true);
  });

  it('a missing operator directory means no operator files', () => {
    expect(loadTradingCalendar({ operatorDir: join(dir, 'nope') }).knownYears()).toEqual([2024, 2025, 2026]);
  });

  it.each([
    ['not JSON', '{', /not JSON/],
    ['year mismatch', JSON.stringify({ ...YEAR_2027, year: 2028 }), /file name says 2027/],
    ['no source', JSON.stringify({ ...YEAR_2027, source: '' }), /source/],
    [
      'date outside year',
      JSON.stringify({ ...YEAR_2027, closures: [{ from: '2026-12-31', to: '2026-12-31', name: 'x' }] }),
      /not in 2027/,
    ],
    [
      'working day not a weekend',
      JSON.stringify({ ...YEAR_2027, adjustedWorkingWeekends: ['2027-01-04'] }),
      /not a Saturday or Sunday/,
    ],
  ])('refuses a bad file: %s', (_name, text, message) => {
    writeFileSync(join(dir, '2027.json'), text);
    expect(() => loadTradingCalendar({ operatorDir: dir })).toThrow(CalendarDataError);
    expect(() => loadTradingCalendar({ operatorDir: dir })).toThrow(message);
  });

  it('parseYearFile names the file in its error', () => {
    expect(() => parseYearFile('[]', '/x/2026.json', 'operator')).toThrow(/\/x\/2026.json/);
  });
});

describe('nqgw calendar count', () => {
  function run(opts: Parameters<typeof runCalendarCount>[0]): { code: number; out: string[]; err: string[] } {
    const out: string[] = [];
    const err: string[] = [];
    const code = runCalendarCount(opts, { out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out, err };
  }

  it('prints the count across a weekend and a holiday', () => {
    const r = run({ from: '2025-09-26', to: '2025-10-13' });
    // Fri 26; Mon 29, Tue 30; Thu Oct 9, Fri 10; Mon 13 -> 6
    expect(r).toEqual({ code: 0, out: ['6'], err: [] });
  });

  it('prints JSON with the days', () => {
    const r = run({ from: '2025-10-09', to: '2025-10-10', json: true });
    expect(JSON.parse(r.out.join('\n'))).toMatchObject({
      tradingDays: 2,
      days: ['2025-10-09', '2025-10-10'],
    });
  });

  it('exits 3 for a year without data, 2 for a bad date', () => {
    const unknown = run({ from: '2027-01-04', to: '2027-01-08' });
    expect(unknown.code).toBe(3);
    expect(unknown.err[0]).toMatch(/^\[NQ151\]/);
    expect(run({ from: '2025-13-01', to: '2025-12-31' }).code).toBe(2);
  });

  it('uses --calendar-dir for other years', () => {
    writeFileSync(join(dir, '2027.json'), JSON.stringify(YEAR_2027));
    // Fri 1 Jan closed; Mon 4 to Fri 8 trade.
    expect(run({ from: '2027-01-01', to: '2027-01-08', calendarDir: dir }).out).toEqual(['5']);
  });
});
