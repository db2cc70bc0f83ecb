import { appendFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runSoftApply, runSoftClose, runSoftConfirm } from '../../../appliance/src/cli/softkey.js';
import { readAuditLog } from '../../../appliance/src/ops/index.js';
import { softLab, TestClock } from '../ekey/helpers.js';

/** softkey apply/confirm-today/close: approved and recorded like the cutover (issue 13 §1). */
let lab: ReturnType<typeof softLab>;
let err: string[];
const io = { out: (): void => undefined, err: (l: string) => err.push(l) };
beforeEach(() => {
  lab = softLab();
  err = [];
});
afterEach(() => lab.cleanup());

const deps = () => ({ io, clock: new TestClock().at('2025-09-29') });
const audit = () => readAuditLog(path.join(lab.dir, 'state', 'audit.log'));
const apply = { start: '2025-09-29', end: '2025-10-10', reason: 'EKey坏了', operator: 'li' };

describe('nqgw softkey with an approver', () => {
  it('require_checker = yes: refused (exit 3) without an approver or with the operator as approver; then done and recorded', () => {
    appendFileSync(lab.ini, '[management]\nrequire_checker = yes\n');
    expect(runSoftApply({ config: lab.ini, ...apply }, deps())).toBe(3);
    expect(err[0]).toMatch(/^\[NQ620\] .*no approver named/);
    expect(runSoftApply({ config: lab.ini, ...apply, approver: 'LI' }, deps())).toBe(3);
    expect(err.some((l) => l.startsWith('[NQ621]'))).toBe(true);
    expect(runSoftApply({ config: lab.ini, ...apply, approver: '张主管' }, deps())).toBe(0);
    expect(runSoftConfirm({ config: lab.ini, operator: 'wang', approver: '张主管' }, deps())).toBe(0);
    expect(runSoftClose({ config: lab.ini, operator: 'li', approver: '张主管' }, deps())).toBe(0);
    expect(audit().map((e) => [e.action, e.result, e.operator, e.approver ?? null])).toEqual([
      ['softkey-apply', 'refused', 'li', null],
      ['softkey-apply', 'refused', 'li', 'LI'],
      ['softkey-apply', 'ok', 'li', '张主管'],
      ['softkey-confirm-today', 'ok', 'wang', '张主管'],
      ['softkey-close', 'ok', 'li', '张主管'],
    ]);
    expect(audit()[2]).toMatchObject({
      approval: 'approved',
      args: { start: '2025-09-29', end: '2025-10-10', reason: 'EKey坏了' },
    });
  });

  it('not required: done without an approver, recorded as "no approver"; a refusal by the rules is recorded too', () => {
    expect(runSoftApply({ config: lab.ini, ...apply }, deps())).toBe(0);
    expect(runSoftApply({ config: lab.ini, ...apply, end: '2025-10-31' }, deps())).toBe(3); // a second window
    expect(audit().map((e) => [e.action, e.result, e.approval])).toEqual([
      ['softkey-apply', 'ok', 'no approver'],
      ['softkey-apply', 'refused', 'no approver'],
    ]);
    expect(audit()[1]!.detail).toMatch(/^\[NQ162\] 已有软加密申请 #1/); // one window at a time
  });
});
