import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig, type TwConfig } from '../../../appliance/src/config/index.js';
import {
  SoftEncryption,
  SoftLedger,
  SoftLedgerError,
  SoftRefusedError,
  closeSoftWindowOnEkey,
  softModeAllowedToday,
  softSettingsFromConfig,
} from '../../../appliance/src/ekey/index.js';
import { CalendarYearUnknownError } from '../../../appliance/src/calendar/index.js';
import { softLab, TestClock } from './helpers.js';

let lab: ReturnType<typeof softLab>;
let config: TwConfig;
let clock: TestClock;
let soft: SoftEncryption;
beforeEach(() => {
  lab = softLab();
  config = loadConfig(lab.ini);
  clock = new TestClock().at('2025-09-26');
  soft = SoftEncryption.fromConfig(config, clock);
});
afterEach(() => lab.cleanup());

const APPLY = { start: '2025-09-26', end: '2025-10-13', reason: 'EKey 损坏, 备用key不在', operator: 'li' };

function refusal(fn: () => unknown): SoftRefusedError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SoftRefusedError);
    return err as SoftRefusedError;
  }
  throw new Error('expected a refusal');
}

describe('settings', () => {
  it('defaults the ledger and calendar directory into state_dir', () => {
    const s = softSettingsFromConfig(config);
    expect(s.ledger).toBe(`${lab.dir}/state/soft-ledger.jsonl`);
    expect(s.calendarDir).toBe(`${lab.dir}/state/calendar`);
    expect(s.warnTradingDays).toBe(2);
  });
});

describe('apply', () => {
  it('records the window with its trading days (across a weekend and 国庆)', () => {
    const w = soft.apply(APPLY);
    expect(w).toMatchObject({
      id: 1,
      start: '2025-09-26',
      end: '2025-10-13',
      tradingDays: 6,
      operator: 'li',
    });
    const lines = readFileSync(soft.settings.ledger, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      t: 'apply',
      reason: APPLY.reason,
      crc: expect.any(Number),
    });
  });

  it('refuses more than 10 trading days, naming the latest end', () => {
    // 2025-09-26 .. 2025-10-24: 26,29,30, 9,10,13,14,15,16,17,20,21,22,23,24 = 15 trading days
    const r = refusal(() => soft.apply({ ...APPLY, end: '2025-10-24' }));
    expect(r.code).toBe('NQ161');
    expect(r.message).toContain('有效期最长不超过10个交易日');
    expect(r.message).toContain('含 15 个交易日');
    expect(r.hint).toContain('2025-10-17');
    expect(soft.windows()).toEqual([]);
  });

  it('accepts exactly 10 trading days, even over 22 calendar days', () => {
    expect(soft.apply({ ...APPLY, end: '2025-10-17' }).tradingDays).toBe(10);
  });

  it('refuses a second window while one is live, a start in the past, and a window without trading days', () => {
    soft.apply(APPLY);
    expect(refusal(() => soft.apply({ ...APPLY, start: '2025-10-14', end: '2025-10-15' })).code).toBe(
      'NQ162',
    );
    const other = SoftEncryption.fromConfig(loadConfig(softLab().ini), clock);
    expect(refusal(() => other.apply({ ...APPLY, start: '2025-09-25' })).code).toBe('NQ166');
    expect(refusal(() => other.apply({ ...APPLY, start: '2025-10-01', end: '2025-10-08' })).code).toBe(
      'NQ166',
    );
  });

  it('refuses (does not guess) when the window reaches a year without calendar data', () => {
    clock.at('2026-12-28');
    expect(() => soft.apply({ ...APPLY, start: '2026-12-28', end: '2027-01-06' })).toThrow(
      CalendarYearUnknownError,
    );
  });
});

describe('daily confirmation and the gateway guard', () => {
  it('allows soft logon only on a confirmed trading day inside the window', () => {
    soft.apply(APPLY);
    const before = softModeAllowedToday(config, clock);
    expect(before.ok).toBe(false);
    if (!before.ok) {
      expect(before.error.code).toBe('NQ165');
      expect(before.error.message).toContain('尚未确认');
    }
    const c = soft.confirmToday('wang');
    expect(c).toMatchObject({ already: false, day: { dayIndex: 1, remaining: 5 } });
    const after = softModeAllowedToday(config, clock.now());
    expect(after.ok).toBe(true);
    if (after.ok) expect(after.message).toBe('小站使用软加密');
    expect(soft.confirmToday('wang').already).toBe(true);
    expect(readFileSync(soft.settings.ledger, 'utf8').trim().split('\n')).toHaveLength(2);

    // The next trading day (Monday) needs its own confirmation: the grant lasts one day.
    clock.at('2025-09-29');
    const monday = softModeAllowedToday(config, clock);
    expect(monday.ok).toBe(false);
    if (!monday.ok) expect(monday.error.code).toBe('NQ165');
  });

  it('refuses to confirm on a non-trading day and outside a window', () => {
    expect(refusal(() => soft.confirmToday('wang')).code).toBe('NQ163');
    soft.apply(APPLY);
    clock.at('2025-09-27'); // Saturday
    expect(refusal(() => soft.confirmToday('wang')).code).toBe('NQ164');
    clock.at('2025-10-08'); // holiday
    expect(refusal(() => soft.confirmToday('wang')).code).toBe('NQ164');
    clock.at('2025-10-14'); // after the end
    expect(refusal(() => soft.confirmToday('wang')).code).toBe('NQ163');
  });

  it('refuses a window that starts later, until its first day', () => {
    soft.apply({ ...APPLY, start: '2025-09-29' });
    expect(refusal(() => soft.confirmToday('wang')).message).toContain('自 2025-09-29 起有效');
  });

  it('refuses days past the 10th trading day when the calendar was corrected after applying', () => {
    soft.apply({ ...APPLY, end: '2025-10-17' });
    // An operator file that reopens 国庆 makes the same window 16 trading days long.
    const calDir = soft.settings.calendarDir;
    writeFileSync(
      `${lab.dir}/tw.ini`,
      readFileSync(lab.ini, 'utf8').replace('[soft]\n', `[soft]\ncalendar_dir = ${calDir}\n`),
    );
    mkdirSync(calDir, { recursive: true });
    writeFileSync(
      `${calDir}/2025.json`,
      JSON.stringify({ year: 2025, source: 'test', closures: [], adjustedWorkingWeekends: [] }),
    );
    const corrected = SoftEncryption.fromConfig(loadConfig(lab.ini), clock.at('2025-10-14'));
    expect(refusal(() => corrected.confirmToday('wang')).code).toBe('NQ167');
  });

  it('alarms ahead of the end', () => {
    soft.apply(APPLY); // 6 trading days: 26, 29, 30, 9, 10, 13
    clock.at('2025-10-10');
    soft.confirmToday('wang');
    const r = soft.allowedToday();
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.day).toMatchObject({ dayIndex: 5, remaining: 1, lastTradingDay: '2025-10-13' });
      expect(r.alarm).toContain('2025-10-13');
    }
    clock.at('2025-09-26');
    soft.confirmToday('wang');
    const early = soft.allowedToday();
    expect(early.ok && early.alarm).toBe(null);
  });
});

describe('close', () => {
  it('closes the live window; soft logon is refused afterwards; a new application is possible', () => {
    soft.apply(APPLY);
    soft.confirmToday('wang');
    expect(soft.close('li').closed).toMatchObject({ operator: 'li', why: 'operator' });
    expect(softModeAllowedToday(config, clock).ok).toBe(false);
    expect(refusal(() => soft.close('li')).code).toBe('NQ163');
    expect(soft.apply({ ...APPLY, end: '2025-09-30' }).id).toBe(2);
  });

  it('going back to the EKey closes the window', () => {
    expect(closeSoftWindowOnEkey(config, clock)).toBe(null);
    soft.apply(APPLY);
    expect(closeSoftWindowOnEkey(config, clock)?.closed?.why).toBe('ekey');
    expect(soft.status().window).toBe(null);
  });
});

describe('the ledger', () => {
  it('ignores a torn last line and appends on a fresh line', () => {
    soft.apply(APPLY);
    appendFileSync(soft.settings.ledger, '{"t":"confirm","id":1,"da');
    expect(soft.ledger.read().tornTail).toBe(true);
    soft.confirmToday('wang');
    const read = soft.ledger.read();
    expect(read.tornTail).toBe(false);
    expect(read.records.map((r) => r.t)).toEqual(['apply', 'confirm']);
  });

  it('refuses a damaged line (checksum), and the guard refuses soft logon with it', () => {
    soft.apply(APPLY);
    const text = readFileSync(soft.settings.ledger, 'utf8').replace(
      '"end":"2025-10-13"',
      '"end":"2025-10-31"',
    );
    writeFileSync(soft.settings.ledger, text);
    expect(() => soft.windows()).toThrow(SoftLedgerError);
    const guard = softModeAllowedToday(config, clock);
    expect(guard.ok).toBe(false);
    if (!guard.ok) expect(guard.error.code).toBe('NQ168');
  });

  it('refuses while another live process holds the lock, takes over a dead one', () => {
    const ledger = new SoftLedger(soft.settings.ledger);
    writeFileSync(soft.settings.ledger + '.lock', String(process.pid));
    expect(() => ledger.withLock(() => 1)).toThrow(/holds/);
    writeFileSync(soft.settings.ledger + '.lock', '999999999');
    expect(ledger.withLock(() => 2)).toBe(2);
  });
});
