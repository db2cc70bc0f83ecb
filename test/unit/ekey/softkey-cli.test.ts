import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  runSoftApply,
  runSoftClose,
  runSoftConfirm,
  runSoftStatus,
} from '../../../appliance/src/cli/softkey.js';
import { softLab, TestClock } from './helpers.js';

let lab: ReturnType<typeof softLab>;
let clock: TestClock;
let out: string[];
let err: string[];
const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
beforeEach(() => {
  lab = softLab();
  clock = new TestClock().at('2025-09-29');
  out = [];
  err = [];
});
afterEach(() => lab.cleanup());

const deps = (): { io: typeof io; clock: TestClock } => ({ io, clock });

describe('nqgw softkey', () => {
  it('apply, status, confirm-today, status, close: exit codes follow the rules', () => {
    const config = lab.ini;
    const apply = { config, start: '2025-09-29', end: '2025-10-10', reason: 'EKey坏了', operator: 'li' };
    expect(runSoftApply(apply, deps())).toBe(0);
    expect(out[0]).toContain('4 个交易日');

    expect(runSoftStatus({ config }, deps())).toBe(1); // trading day, not confirmed
    expect(out.join('\n')).toContain('未确认');

    expect(runSoftConfirm({ config, operator: 'wang' }, deps())).toBe(0);
    out = [];
    expect(runSoftStatus({ config, json: true }, deps())).toBe(0);
    const status = JSON.parse(out.join('\n')) as { allowedToday: boolean; window: { dayIndex: number } };
    expect(status.allowedToday).toBe(true);
    expect(status.window.dayIndex).toBe(1);

    expect(runSoftClose({ config, operator: 'li' }, deps())).toBe(0);
    expect(runSoftClose({ config, operator: 'li' }, deps())).toBe(3);
    expect(runSoftConfirm({ config, operator: 'wang' }, deps())).toBe(3);
  });

  it('refuses more than 10 trading days with exit 3 and the rule in words', () => {
    const code = runSoftApply(
      { config: lab.ini, start: '2025-09-29', end: '2025-10-31', reason: 'x', operator: 'li' },
      deps(),
    );
    expect(code).toBe(3);
    expect(err[0]).toMatch(/^\[NQ161\] 软加密只能作临时应急使用，其有效期最长不超过10个交易日/);
    expect(err[1]).toContain('2025-10-20');
  });

  it('exits 2 for a bad date and for a missing tw.ini', () => {
    expect(
      runSoftApply(
        { config: lab.ini, start: '2025-9-29', end: '2025-10-01', reason: 'x', operator: 'li' },
        deps(),
      ),
    ).toBe(2);
    expect(runSoftStatus({ config: `${lab.dir}/missing.ini` }, deps())).toBe(2);
  });

  it('status with no window is fine (exit 0)', () => {
    expect(runSoftStatus({ config: lab.ini }, deps())).toBe(0);
    expect(out.join('\n')).toContain('无有效申请');
  });
});
