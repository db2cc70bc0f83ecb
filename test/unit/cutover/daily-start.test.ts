import { describe, expect, it } from 'vitest';
import {
  enableDailyStart,
  ENABLED_NOTE,
  type StartPlan,
  type SystemctlRunner,
} from '../../../appliance/src/cutover/start.js';

const SYSTEMD: StartPlan = { kind: 'systemd', describe: 'systemctl start nqgw' };

/** A systemctl that records its calls and answers with `status`. */
function fakeSystemctl(status: number | null, stderr = ''): { calls: string[][]; run: SystemctlRunner } {
  const calls: string[][] = [];
  return {
    calls,
    run: (args) => {
      calls.push(args);
      return { status, stderr };
    },
  };
}

describe('cutover: enable the daily start on the replica that went active', () => {
  it('a GO through systemd runs systemctl enable nqgw.service and says so', () => {
    const sc = fakeSystemctl(0);
    const outcome = enableDailyStart(SYSTEMD, true, false, sc.run);
    expect(sc.calls).toEqual([['enable', 'nqgw.service']]);
    expect(outcome).toMatchObject({ verdict: 'OK' });
    expect(outcome?.detail).toContain(ENABLED_NOTE);
    expect(outcome?.detail).toContain('systemctl disable --now nqgw');
  });

  it('a failed enable is a WARN with what to do, never a FAIL (the GO stands)', () => {
    const sc = fakeSystemctl(1, 'Failed to enable unit: Access denied');
    const outcome = enableDailyStart(SYSTEMD, true, false, sc.run);
    expect(outcome).toMatchObject({ verdict: 'WARN' });
    expect(outcome?.detail).toContain('Access denied');
    expect(outcome?.hint).toContain('systemctl enable nqgw.service');
  });

  it('nothing in a drill, on a NO-GO, or when the gateway was not started through systemd', () => {
    const sc = fakeSystemctl(0);
    expect(enableDailyStart(SYSTEMD, true, true, sc.run)).toBeNull();
    expect(enableDailyStart(SYSTEMD, false, false, sc.run)).toBeNull();
    expect(enableDailyStart({ kind: 'spawn', describe: 'node nqgw.js run' }, true, false, sc.run)).toBeNull();
    expect(enableDailyStart({ kind: 'command', describe: 'x' }, true, false, sc.run)).toBeNull();
    expect(sc.calls).toEqual([]);
  });
});
