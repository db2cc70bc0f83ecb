import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stopPid, type CutoverResult } from '../../../appliance/src/cutover/index.js';
import { readAuditLog } from '../../../appliance/src/ops/index.js';
import { makeLab, setIni, simReady, startSim } from '../../helpers/lab.js';
import type { NqgwProcess } from '../../helpers/process.js';
import { runCutoverCli, statusPid } from './cli.js';

/** Approval and record, honest timing, readiness without a logon (issue 13 §1). */
const running: NqgwProcess[] = [];
const gateways: string[] = [];
afterEach(async () => {
  for (const stateDir of gateways.splice(0)) {
    const pid = statusPid(stateDir);
    if (pid !== null) await stopPid(pid);
  }
  await Promise.all(running.splice(0).map((p) => p.stop('SIGTERM')));
});

async function labWithSim(): Promise<Awaited<ReturnType<typeof makeLab>>> {
  const lab = await makeLab();
  setIni(lab.simIni, 'server', 'heartbeat_s', '1');
  return lab;
}

async function startLabSim(lab: Awaited<ReturnType<typeof makeLab>>): Promise<void> {
  running.push(startSim(lab));
  await simReady(lab);
}

/** HH:MM:SS CST of `ms`. */
function cstTime(ms: number): string {
  return new Date(ms + 8 * 3600_000).toISOString().slice(11, 19);
}

describe('cutover approval and record', () => {
  it('require_checker = yes: refused without an approver or with the operator as approver; recorded; then GO with RTO from --fault-at', async () => {
    const lab = await labWithSim();
    setIni(lab.twIni, 'management', 'require_checker', 'yes');
    await startLabSim(lab);
    const none = await runCutoverCli(['--config', lab.twIni, '--operator', 'duty-1']);
    expect(none.code, none.output).toBe(3);
    expect(none.output).toMatch(/FAIL\s+approval and audit record: \[NQ620\] .*no approver named/);
    expect(none.output).not.toMatch(/start as active/);
    const self = await runCutoverCli(['--config', lab.twIni, '--operator', 'duty-1', '--approver', 'Duty-1']);
    expect(self.code).toBe(3);
    expect(self.output).toMatch(/\[NQ621\] .*approver Duty-1 is the operator/);
    expect(statusPid(lab.stateDir)).toBeNull(); // nothing was started

    gateways.push(lab.stateDir);
    // Seconds ago, in the HH:MM:SS CST form an operator types (the fault seen on the wall clock).
    const fault = Date.now() - 90_000;
    const { code, output, stdout } = await runCutoverCli([
      '--config',
      lab.twIni,
      '--operator',
      'duty-1',
      '--approver',
      '王经理',
      '--fault-at',
      cstTime(fault),
      '--json',
    ]);
    expect(code, output).toBe(0);
    const result = JSON.parse(stdout) as CutoverResult;
    expect(result).toMatchObject({ go: true, operator: 'duty-1', approver: '王经理' });
    expect(result.rtoMs).toBeGreaterThan(result.toFirstHeartbeatMs!);
    expect(result.rtoMs).toBeGreaterThanOrEqual(89_000);
    expect(Date.parse(result.faultAt!)).toBe(Math.floor(fault / 1000) * 1000);

    const audit = readAuditLog(path.join(lab.stateDir, 'audit.log'));
    expect(audit.map((e) => [e.action, e.result, e.approval ?? null])).toEqual([
      ['cutover', 'refused', null],
      ['cutover', 'refused', null],
      ['cutover', 'ok', 'approved'],
    ]);
    expect(audit[2]).toMatchObject({
      operator: 'duty-1',
      approver: '王经理',
      timings: {
        rtoMs: result.rtoMs,
        toFirstHeartbeatMs: result.toFirstHeartbeatMs,
        faultAt: result.faultAt,
      },
    });
  });

  it('not required and not given: GO, recorded as "no approver"; the text report gives the RTO line', async () => {
    const lab = await labWithSim();
    await startLabSim(lab);
    gateways.push(lab.stateDir);
    const { code, output } = await runCutoverCli([
      '--config',
      lab.twIni,
      '--fault-at',
      cstTime(Date.now() - 5000),
    ]);
    expect(code, output).toBe(0);
    expect(output).toMatch(/OK\s+approval and audit record: operator \S+, no approver/);
    expect(output).toMatch(
      /RTO [\d.]+ s: from the fault at \d\d:\d\d:\d\d CST \(--fault-at\) to the first heartbeat at/,
    );
    expect(readAuditLog(path.join(lab.stateDir, 'audit.log'))[0]).toMatchObject({
      action: 'cutover',
      approval: 'no approver',
      result: 'ok',
    });
  });

  it('a --fault-at that is not a time, or in the future: exit 2, nothing done', async () => {
    const lab = await labWithSim();
    for (const bad of ['yesterday', new Date(Date.now() + 3_600_000).toISOString()]) {
      const { code, output } = await runCutoverCli(['--config', lab.twIni, '--fault-at', bad]);
      expect(code, output).toBe(2);
      expect(output).toMatch(/FAIL\s+arguments: \[NQ63[01]\]/);
    }
  });
});

describe('cutover timing', () => {
  it('a refused logon is a NO-GO as soon as the refusal is in, not at --timeout', async () => {
    const lab = await labWithSim();
    setIni(lab.simIni, 'station.W888888T', 'cert_cn', 'W999999T'); // the main station refuses our certificate
    await startLabSim(lab);
    gateways.push(lab.stateDir);
    const { code, result } = await (async () => {
      const r = await runCutoverCli(['--config', lab.twIni, '--timeout', '300', '--json']);
      return { code: r.code, result: JSON.parse(r.stdout) as CutoverResult };
    })();
    expect(code).toBe(3);
    const logon = result.steps.find((s) => s.step === 'logon');
    expect(logon?.verdict).toBe('FAIL');
    expect(logon?.detail).toMatch(
      /^the main station refused the logon: \[CERT\] 主站拒绝登录: 您的Ekey证书有误/,
    );
    expect(logon?.detail).not.toMatch(/timed out/);
  });
});

describe('cutover --preflight-only (the standby\u2019s daily check)', () => {
  it('every check up to the TLS handshake, nothing started: READY (0); a lock of another host is a WARN; NOT READY (1) with the main station down', async () => {
    const lab = await labWithSim();
    await startLabSim(lab);
    writeFileSync(
      `${lab.orders}.lock`,
      JSON.stringify({
        host: 'gw-active',
        pid: 77,
        since: '2026-12-02T00:30:00Z',
        station: lab.station,
        leaseMs: 2000,
      }),
    );
    const ready = await runCutoverCli(['--config', lab.twIni, '--preflight-only', '--json']);
    expect(ready.code, ready.output).toBe(0);
    const r = JSON.parse(ready.stdout) as CutoverResult;
    expect(r.steps.map((s) => s.step)).toEqual([
      'config',
      'lock',
      'dirs',
      'nqhb',
      'tls',
      'clock',
      'mainstation',
    ]);
    expect(r.steps.find((s) => s.step === 'lock')).toMatchObject({
      verdict: 'WARN',
      detail: expect.stringContaining('a gateway on host gw-active'),
    });
    expect(r.steps.find((s) => s.step === 'mainstation')?.detail).toContain('(no logon)');
    expect(statusPid(lab.stateDir)).toBeNull();
    expect(readAuditLog(path.join(lab.stateDir, 'audit.log'))).toEqual([]); // a check, not an action

    await Promise.all(running.splice(0).map((p) => p.stop('SIGTERM')));
    const down = await runCutoverCli(['--config', lab.twIni, '--preflight-only']);
    expect(down.code, down.output).toBe(1);
    expect(down.output).toMatch(/FAIL\s+main station reachable/);
    expect(down.output.trimEnd().endsWith('NOT READY')).toBe(true);
  });
});
