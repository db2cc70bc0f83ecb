import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runCalendarToday, type CalendarTodayOptions } from '../../../appliance/src/cli/calendar.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nqgw-cal-today-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The instant `hh:mm` China Standard Time on `iso`. */
const cst = (iso: string, hhmm = '08:30'): number => Date.parse(`${iso}T${hhmm}:00+08:00`);

function today(opts: CalendarTodayOptions, now: number): { code: number; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const code = runCalendarToday(opts, { out: (l) => out.push(l), err: (l) => err.push(l) }, now);
  return { code, out, err };
}

const YEAR_2027 = {
  year: 2027,
  source: 'test fixture (not the real 2027 schedule)',
  closures: [{ from: '2027-01-01', to: '2027-01-01', name: '元旦' }],
  adjustedWorkingWeekends: ['2027-01-02'],
};

describe('nqgw calendar today', () => {
  it('exit 0 on a trading day', () => {
    expect(today({}, cst('2026-11-23'))).toEqual({
      code: 0,
      out: ['2026-11-23 is a trading day'],
      err: [],
    });
  });

  it('exit 1 on a weekend, a holiday and an adjusted working weekend, saying which', () => {
    expect(today({}, cst('2026-11-22'))).toMatchObject({
      code: 1,
      out: ['2026-11-22 is not a trading day (weekend)'],
    });
    expect(today({}, cst('2026-10-05'))).toMatchObject({
      code: 1,
      out: ['2026-10-05 is not a trading day (holiday 国庆节)'],
    });
    expect(today({}, cst('2026-02-14'))).toMatchObject({
      code: 1,
      out: ['2026-02-14 is not a trading day (adjusted-working-weekend)'],
    });
  });

  it('takes the CST date, not UTC: 07:30 CST Monday is still Sunday in UTC', () => {
    const mondayEarly = cst('2026-11-23', '07:30');
    expect(new Date(mondayEarly).toISOString().slice(0, 10)).toBe('2026-11-22');
    expect(today({}, mondayEarly).code).toBe(0);
  });

  it('exit 3 (NQ151) for a year without data; 255 under --exec-condition', () => {
    const r = today({}, cst('2031-06-02'));
    expect(r.code).toBe(3);
    expect(r.err[0]).toMatch(/^\[NQ151\]/);
    expect(today({ execCondition: true }, cst('2031-06-02')).code).toBe(255);
    // The day verdicts are not touched by --exec-condition.
    expect(today({ execCondition: true }, cst('2026-11-23')).code).toBe(0);
    expect(today({ execCondition: true }, cst('2026-11-22')).code).toBe(1);
  });

  it('--calendar-dir supplies other years', () => {
    writeFileSync(join(dir, '2027.json'), JSON.stringify(YEAR_2027));
    expect(today({ calendarDir: dir }, cst('2027-01-01')).out).toEqual([
      '2027-01-01 is not a trading day (holiday 元旦)',
    ]);
    expect(today({ calendarDir: dir }, cst('2027-01-04')).code).toBe(0);
  });

  it('--config reads [soft] calendar_dir from tw.ini; a bad tw.ini is exit 2 (255 under --exec-condition)', () => {
    writeFileSync(join(dir, '2027.json'), JSON.stringify(YEAR_2027));
    for (const f of ['ca.pem', 'station.crt', 'station.key']) writeFileSync(join(dir, f), 'x');
    const ini = join(dir, 'tw.ini');
    writeFileSync(
      ini,
      `[station]
id = W888888T
units = 729900
[files]
orders = NQWT.DBF
returns = NQHB.DBF
state_dir = state
[servers]
server1 = 127.0.0.1:7043
[tls]
mode = file
ca = ca.pem
cert = station.crt
key = station.key
server_name = mainstation
[soft]
calendar_dir = ${dir}
`,
    );
    expect(today({ config: ini }, cst('2027-01-04'))).toMatchObject({ code: 0 });
    expect(today({ config: join(dir, 'missing.ini') }, cst('2026-11-23')).code).toBe(2);
    expect(today({ config: join(dir, 'missing.ini'), execCondition: true }, cst('2026-11-23')).code).toBe(
      255,
    );
  });

  it('--json gives the day, its kind and the verdict', () => {
    const r = today({ json: true }, cst('2026-10-05'));
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out.join('\n'))).toEqual({
      date: '2026-10-05',
      kind: 'holiday',
      name: '国庆节',
      trading: false,
    });
  });
});

describe('nqgw calendar today (CLI)', () => {
  const cli = (args: string[]) =>
    spawnSync(process.execPath, [join(REPO, 'bin/nqgw.js'), 'calendar', 'today', ...args], {
      encoding: 'utf8',
      timeout: 30_000,
    });

  it('runs on the real clock: 0 or 1 with the date, 3 for an empty shipped directory; bad arguments are 2 (255 under --exec-condition)', () => {
    const r = cli([]);
    expect([0, 1], `${r.stdout}${r.stderr}`).toContain(r.status);
    expect(r.stdout).toMatch(/^\d{4}-\d\d-\d\d is (not )?a trading day/);
    const empty = spawnSync(process.execPath, [join(REPO, 'bin/nqgw.js'), 'calendar', 'today'], {
      encoding: 'utf8',
      timeout: 30_000,
      env: { ...process.env, NQGW_CALENDAR_DATA_DIR: dir },
    });
    expect(empty.status, empty.stderr).toBe(3);
    expect(empty.stderr).toMatch(/\[NQ151\]/);
    // commander's own usage error would be 1 ("not a trading day"): it must not be.
    expect(cli(['--no-such-option']).status).toBe(2);
    expect(cli(['extra-argument']).status).toBe(2);
    expect(cli(['--no-such-option', '--exec-condition']).status).toBe(255);
  });
});
