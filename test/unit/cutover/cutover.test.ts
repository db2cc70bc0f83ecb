import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfigText, type TwConfig } from '../../../appliance/src/config/index.js';
import {
  checkDrillDay,
  checkNoActive,
  checkReturnsToday,
  checkTls,
  CutoverReport,
  planStart,
  scratchTwIni,
} from '../../../appliance/src/cutover/index.js';
import { writeReturnsOfDay } from '../../helpers/returns.js';
import { OrderFileLock } from '../../../appliance/src/gateway/index.js';

function tmp(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'nqgw-cutover-unit-'));
}

function config(dir: string, extra = ''): TwConfig {
  for (const f of ['ca.pem', 'station.crt', 'station.key']) writeFileSync(path.join(dir, f), 'x');
  const text = `[station]
id = W888888T
units = 729900,729901
[files]
orders = NQWT.DBF
returns = NQHB.DBF
state_dir = state
[servers]
server1 = 127.0.0.1:7043
server1_name = 南方
server2 = 127.0.0.2:7043
[tls]
mode = file
ca = ca.pem
cert = station.crt
key = station.key
server_name = mainstation
[options]
time_file = TIME.TXT
auto_exit = 15:30
${extra}`;
  return parseConfigText(text, path.join(dir, 'tw.ini'));
}

describe('drill scratch tw.ini', () => {
  it('keeps station, servers, credentials and options, and moves every file the broker sees', () => {
    const real = config(tmp(), '[clock]\nservers = 10.255.0.1\n');
    const scratch = tmp();
    const files = {
      orders: path.join(scratch, 'NQWT.DBF'),
      returns: path.join(scratch, 'NQHB.DBF'),
      stateDir: path.join(scratch, 'state'),
    };
    const copy = parseConfigText(scratchTwIni(real, files), path.join(scratch, 'tw.ini'));
    expect(copy.station).toEqual(real.station);
    expect(copy.servers).toEqual(real.servers);
    expect(copy.tls).toEqual(real.tls);
    expect(copy.link).toEqual(real.link);
    expect(copy.files).toEqual(files);
    expect(copy.options.autoExit).toBe(real.options.autoExit);
    expect(copy.options.timeFile).toBe(path.join(files.stateDir, 'TIME.TXT'));
    expect(copy.extra['clock']).toEqual({ servers: '10.255.0.1' });
  });
});

describe('preflight checks', () => {
  it('drill day: a weekend, an adjusted working Saturday or a holiday is OK; a trading day or an unknown year is refused unless forced', () => {
    const cfg = config(tmp());
    const at = (iso: string) => ({ now: () => Date.parse(`${iso}T10:00:00+08:00`) });
    expect(checkDrillDay(cfg, at('2026-11-22'))).toMatchObject({
      verdict: 'OK',
      detail: expect.stringContaining('weekend'),
    });
    expect(checkDrillDay(cfg, at('2026-02-14')).detail).toContain('adjusted-working-weekend');
    expect(checkDrillDay(cfg, at('2026-10-05')).detail).toContain('holiday 国庆节');
    const trading = checkDrillDay(cfg, at('2026-11-23'));
    expect(trading).toMatchObject({
      verdict: 'FAIL',
      detail: 'today 2026-11-23 is a trading day: drills are for non-trading days',
    });
    expect(trading.hint).toMatch(/--force/);
    const forced = checkDrillDay(cfg, at('2026-11-23'), true);
    expect(forced).toMatchObject({
      verdict: 'WARN',
      detail: 'today 2026-11-23 is a trading day: drill forced (--force), recorded in the audit log',
    });
    expect(forced.hint).toMatch(/one session/);
    // The line never says "non-trading" about a trading day (issue 13 section 4).
    for (const r of [trading, forced])
      expect(`${r.detail}`).not.toMatch(/is not a trading day|is a non-trading day/);
    const unknown = checkDrillDay(cfg, at('2031-06-02'));
    expect(unknown.verdict).toBe('FAIL');
    expect(unknown.detail).toMatch(/cannot tell whether 2031-06-02 trades/);
    expect(checkDrillDay(cfg, at('2031-06-02'), true).verdict).toBe('WARN');
  });

  it('NQHB.DBF: absent is fine, today is fine, another day is a failure (or a warning when archived)', async () => {
    const dir = tmp();
    const cfg = config(dir);
    const clock = { now: () => Date.parse('2026-11-23T02:00:00Z') }; // 10:00 CST on 20261123
    expect((await checkReturnsToday(cfg, clock)).verdict).toBe('OK');
    await writeReturnsOfDay(cfg.files.returns, '20261120');
    const bad = await checkReturnsToday(cfg, clock);
    expect(bad).toMatchObject({ verdict: 'FAIL' });
    expect(bad.detail).toContain('rows of 20261120, today is 20261123');
    const archived = await checkReturnsToday(
      { ...cfg, options: { ...cfg.options, archiveOldReturns: true } },
      clock,
    );
    expect(archived.verdict).toBe('WARN');
    expect((await checkReturnsToday(cfg, { now: () => Date.parse('2026-11-20T02:00:00Z') })).verdict).toBe(
      'OK',
    );
  });

  it('lock: none, stale on this host, live on this host, another host', () => {
    const cfg = config(tmp());
    const lock = `${cfg.files.orders}.lock`;
    expect(checkNoActive(cfg).verdict).toBe('OK');
    const write = (host: string, pid: number): void =>
      writeFileSync(lock, JSON.stringify({ host, pid, since: '2026-11-21T00:00:00Z', station: 'W888888T' }));
    write(os.hostname(), 2 ** 22 + 12345); // beyond pid_max: not alive
    expect(checkNoActive(cfg).detail).toContain('stale lock');
    // Our own pid in a record without its start time is a pid reused after the holder died.
    write(os.hostname(), process.pid);
    expect(checkNoActive(cfg).detail).toContain('stale lock');
    rmSync(lock);
    const live = OrderFileLock.forOrderFile(cfg.files.orders, 'W888888T');
    live.acquire();
    try {
      expect(checkNoActive(cfg)).toMatchObject({ verdict: 'FAIL' });
    } finally {
      live.release();
    }
    write('prod-gw-1', 1);
    expect(checkNoActive(cfg).detail).toContain('on host prod-gw-1');
    writeFileSync(lock, 'not json');
    expect(checkNoActive(cfg).verdict).toBe('FAIL');
  });

  it('tls: soft needs an open, confirmed window; file needs the three files', () => {
    const cfg = config(tmp());
    expect(checkTls(cfg).verdict).toBe('OK');
    expect(checkTls({ ...cfg, tls: { ...cfg.tls, mode: 'soft' } }).verdict).toBe('FAIL');
    expect(checkTls({ ...cfg, tls: { ...cfg.tls, key: '/nonexistent/station.key' } }).detail).toContain(
      'key /nonexistent/station.key: ENOENT',
    );
  });
});

describe('cutover report', () => {
  it('prints each step with its CST time, elapsed time, verdict and hint', async () => {
    let t = Date.parse('2026-11-23T01:30:00Z');
    const lines: string[] = [];
    const report = new CutoverReport({ now: () => t }, { line: (l) => lines.push(l) });
    await report.run('dirs', 'NQWT/NQHB directories writable', () => {
      t += 1500;
      return { verdict: 'FAIL', detail: 'cannot write in /data', hint: 'mount it read-write' };
    });
    await report.run('tls', 'TLS credentials present', () => {
      throw Object.assign(new Error('boom'), { code: 'NQ395', hint: 'check [tls]' });
    });
    expect(lines[0]).toBe(
      '09:30:01 +  1.50 s  FAIL  NQWT/NQHB directories writable: cannot write in /data\n' +
        `${' '.repeat(26)}-> mount it read-write`,
    );
    expect(report.steps[1]).toMatchObject({ verdict: 'FAIL', detail: '[NQ395] boom', hint: 'check [tls]' });
    expect(report.failed()).toBe(true);
  });
});

describe('start plan', () => {
  it('spawns nqgw run for a config the systemd unit does not run; --start-command takes {config}', () => {
    const plan = planStart('/tmp/lab/tw.ini', undefined, true);
    expect(plan.kind).toBe('spawn');
    expect(plan.describe).toMatch(/bin\/nqgw\.js run --config \/tmp\/lab\/tw\.ini$/);
    expect(planStart('/tmp/x/tw.ini', 'systemctl start nqgw@{config}', true)).toEqual({
      kind: 'command',
      describe: 'systemctl start nqgw@/tmp/x/tw.ini',
    });
  });
});
