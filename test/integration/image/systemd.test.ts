import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IMAGE, output, run, SERVICES, tool, unitRoot, UNITS } from './tools.js';
import { EXIT_DAY_ENDED } from '../../../appliance/src/cli/run.js';

/** Highest `systemd-analyze security` exposure accepted per unit (0 = locked down, 10 = open). */
const MAX_EXPOSURE: Record<string, number> = {
  'nqgw.service': 4.0,
  'nqgw-firstboot.service': 5.0,
  'nqgw-usbip.service': 5.0,
  'nqgw-usbip-tunnel.service': 2.0,
  'nqgw-daily.service': 3.0,
};

describe('systemd units (systemd-analyze)', () => {
  let analyze: string;
  let root: string;
  beforeAll(() => {
    analyze = tool('systemd-analyze');
    root = unitRoot();
  });
  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('ships the gateway, first-boot, usbip and daily-start units, each service with an exposure limit', () => {
    expect(UNITS).toEqual([
      'nqgw-daily.service',
      'nqgw-daily.timer',
      'nqgw-firstboot.service',
      'nqgw-usbip-tunnel.service',
      'nqgw-usbip.service',
      'nqgw.service',
    ]);
    // A timer runs no process, so it has no exposure; every service has a limit.
    expect(SERVICES).toEqual(UNITS.filter((u) => !u.endsWith('.timer')));
    for (const u of SERVICES) expect(MAX_EXPOSURE[u], `no exposure limit for ${u}`).toBeDefined();
  });

  it.each(UNITS)('systemd-analyze verify %s: no errors, no warnings', (unit) => {
    const r = run(analyze, ['verify', '--man=no', `--root=${root}`, unit]);
    expect(r.status, output(r)).toBe(0);
    expect(r.stderr.trim(), output(r)).toBe('');
  });

  it('the verify harness itself reports a misspelt key and a bad value (so silence above means something)', () => {
    writeFileSync(
      join(root, 'etc/systemd/system/nqgw-broken.service'),
      '[Service]\nExecStart=/usr/local/bin/nqgw run\nRestartt=always\nRestart=sometimes\n',
    );
    const r = run(analyze, ['verify', '--man=no', `--root=${root}`, 'nqgw-broken.service']);
    expect(r.stderr).toMatch(/Unknown key 'Restartt'/);
    expect(r.stderr).toMatch(/Failed to parse service restart specifier/);
  });

  it.each(SERVICES)('systemd-analyze security --offline=yes %s stays under its exposure limit', (unit) => {
    const r = run(analyze, ['security', '--offline=yes', `--root=${root}`, '--no-pager', unit]);
    expect(r.status, output(r)).toBe(0);
    const m = /Overall exposure level for \S+: (\d+\.\d)/.exec(r.stdout);
    expect(m, output(r)).not.toBeNull();
    const score = Number(m?.[1]);
    // Printed so the report can quote it.
    console.log(`systemd-analyze security ${unit}: ${score}`);
    expect(score).toBeLessThan(MAX_EXPOSURE[unit] as number);
  });

  it('the daily timer fires at 08:30 China Standard Time on weekdays (systemd-analyze calendar)', () => {
    const timer = readFileSync(join(IMAGE, 'systemd', 'nqgw-daily.timer'), 'utf8');
    const spec = /^OnCalendar=(.+)$/m.exec(timer)?.[1]?.trim();
    expect(spec).toBe('Mon..Fri *-*-* 08:30:00 Asia/Shanghai');
    // Print the next elapses in UTC whatever this machine's zone: 08:30 CST is 00:30 UTC.
    const r = run(analyze, ['calendar', '--iterations=5', spec as string], {
      env: { ...process.env, TZ: 'UTC' },
    });
    expect(r.status, output(r)).toBe(0);
    expect(r.stdout, output(r)).toContain(`Normalized form: ${spec}`);
    const elapses = [
      ...r.stdout.matchAll(/(?:Next elapse|Iter\. #\d+): (\w{3}) \d{4}-\d\d-\d\d (\d\d:\d\d:\d\d) UTC/g),
    ];
    expect(elapses, output(r)).toHaveLength(5);
    for (const m of elapses) {
      expect(['Mon', 'Tue', 'Wed', 'Thu', 'Fri']).toContain(m[1]);
      expect(m[2]).toBe('00:30:00');
    }
    expect(timer).toMatch(/^Persistent=false$/m);
    expect(timer).toMatch(/^AccuracySec=1min$/m);
  });

  it("the gateway's day-change exit (nqgw run exits 4) is a clean stop that systemd does not restart", () => {
    const unit = readFileSync(join(IMAGE, 'systemd', 'nqgw.service'), 'utf8');
    expect(EXIT_DAY_ENDED).toBe(4);
    expect(unit).toMatch(/^Restart=on-failure$/m);
    // Not a failure (no failed-unit alarm, no start-limit count) and never restarted: a restart
    // on the new day would meet yesterday's NQHB.DBF (NQ203); nqgw-daily.service starts it.
    expect(unit).toMatch(new RegExp(`^SuccessExitStatus=${EXIT_DAY_ENDED}$`, 'm'));
    expect(unit).toMatch(new RegExp(`^RestartPreventExitStatus=${EXIT_DAY_ENDED}$`, 'm'));
  });

  it('the daily service starts nqgw.service only where it is enabled and only on a trading day', () => {
    const unit = readFileSync(join(IMAGE, 'systemd', 'nqgw-daily.service'), 'utf8');
    const lines = unit.split('\n').filter((l) => /^Exec[A-Za-z]*=/.test(l));
    expect(lines).toEqual([
      'ExecCondition=/usr/bin/systemctl is-enabled --quiet nqgw.service',
      'ExecCondition=/usr/local/bin/nqgw calendar today --config /etc/nqgw/tw.ini --exec-condition',
      'ExecStartPre=-/usr/bin/systemctl reset-failed nqgw.service',
      'ExecStart=/usr/bin/systemctl start nqgw.service',
    ]);
    expect(unit).toMatch(/^Type=oneshot$/m);
  });
});
