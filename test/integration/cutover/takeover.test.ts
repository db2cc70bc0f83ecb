import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { stopPid, type CutoverResult } from '../../../appliance/src/cutover/index.js';
import { OrderFileLock } from '../../../appliance/src/gateway/index.js';
import { readAuditLog } from '../../../appliance/src/ops/index.js';
import { makeLab, setIni, simReady, startGateway, startSim } from '../../helpers/lab.js';
import type { NqgwProcess } from '../../helpers/process.js';
import { runCutoverCli, statusPid } from './cli.js';

/**
 * Taking over from a replica that is down (issue 13 §1): two hosts sharing one interface
 * directory, played by two processes with different NQGW_LOCK_HOSTNAME (the lock's test seam).
 * gw-a runs a gateway; gw-b runs `nqgw cutover --take-over-from gw-a`.
 */
const running: NqgwProcess[] = [];
const gateways: string[] = [];
afterEach(async () => {
  for (const stateDir of gateways.splice(0)) {
    const pid = statusPid(stateDir);
    if (pid !== null) await stopPid(pid);
  }
  await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
});

const B = { NQGW_LOCK_HOSTNAME: 'gw-b' };

describe('nqgw cutover --take-over-from HOST', () => {
  it('refuses the wrong host and a running holder; takes over once its lease lapsed; recorded', async () => {
    const lab = await makeLab();
    setIni(lab.simIni, 'server', 'heartbeat_s', '1');
    running.push(startSim(lab));
    await simReady(lab);
    const a = startGateway(lab, { NQGW_LOCK_HOSTNAME: 'gw-a' });
    running.push(a);
    await a.waitFor(/小站端与服务器连接成功/);
    expect(OrderFileLock.holder(lab.orders)).toMatchObject({ host: 'gw-a', leaseMs: 2000 });

    const people = ['--operator', 'duty-1', '--approver', 'it-head'];
    const wrong = await runCutoverCli(['--config', lab.twIni, '--take-over-from', 'gw-c', ...people], B);
    expect(wrong.code, wrong.output).toBe(3);
    expect(wrong.output).toMatch(/\[NQ612\] the lock is held by the gateway on gw-a \(pid \d+/);

    const fresh = await runCutoverCli(['--config', lab.twIni, '--take-over-from', 'gw-a', ...people], B);
    expect(fresh.code, fresh.output).toBe(3);
    expect(fresh.output).toMatch(/the gateway on gw-a refreshed its lock [\d.]+ s ago: it is running/);
    expect(fresh.output).not.toMatch(/OK\s+start as active/);
    expect(OrderFileLock.holder(lab.orders)?.host).toBe('gw-a');

    // gw-a's host dies: the process is gone without releasing the lock, its lease stops. The
    // cutover on gw-b, started at once, waits for the lease to lapse (15 s) and takes over.
    await a.stop('SIGKILL');
    gateways.push(lab.stateDir);
    const { code, output, stdout } = await runCutoverCli(
      ['--config', lab.twIni, '--take-over-from', 'gw-a', ...people, '--json'],
      B,
    );
    expect(code, output).toBe(0);
    expect(output).toMatch(/\.\.\. waiting for the lease of gw-a to lapse: last refreshed [\d.]+ s ago/);
    const result = JSON.parse(stdout) as CutoverResult;
    const takeover = result.steps.find((s) => s.step === 'takeover');
    expect(takeover).toMatchObject({ verdict: 'OK' });
    expect(takeover?.detail).toMatch(
      /NQWT\.DBF\.lock of gw-a \(pid \d+, since .*\) removed; its lease was [\d.]+ s old/,
    );
    expect(OrderFileLock.holder(lab.orders)).toMatchObject({ host: 'gw-b', pid: result.gatewayPid });

    const audit = readAuditLog(path.join(lab.stateDir, 'audit.log'));
    expect(audit.map((e) => [e.action, e.result, e.operator, e.approver])).toEqual([
      ['cutover', 'refused', 'duty-1', 'it-head'],
      ['cutover', 'refused', 'duty-1', 'it-head'],
      ['lock-take-over', 'ok', 'duty-1', 'it-head'],
      ['cutover', 'ok', 'duty-1', 'it-head'],
    ]);
    expect(audit[2]!.args).toEqual({ host: 'gw-a' });
  });
});
