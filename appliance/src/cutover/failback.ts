/**
 * `nqgw cutover --fail-back`: production (or the other replica) takes over again, so this replica
 * stops being the active one: the gateway is stopped and its daily start disabled (systemd), or
 * the gateway process named by status.json is stopped (lab, --start-command runs). Approved and
 * recorded like the cutover itself (seed 002 §5.7: the fail-back has an operator and a verifier).
 */
import path from 'node:path';
import { loadConfig, type TwConfig } from '../config/index.js';
import { OrderFileLock, readStatusSnapshot } from '../gateway/index.js';
import { isAlive, systemClock, type Clock } from '../shared/index.js';
import {
  approvalFields,
  auditWritable,
  checkApproval,
  cliSource,
  writeAudit,
  type Approval,
} from './approval.js';
import { CutoverReport, formatSeconds, type ReportSink } from './report.js';
import { runSystemctl, stopPid, systemdUnitAvailable, UNIT_CONFIG, type SystemctlRunner } from './start.js';
import type { CutoverResult } from './run.js';

export interface FailBackOptions {
  config: string;
  operator?: string;
  approver?: string;
}

async function stopHere(
  config: TwConfig,
  systemctl: SystemctlRunner,
): Promise<{ ok: boolean; detail: string; hint?: string }> {
  if (path.resolve(config.source) === UNIT_CONFIG && systemdUnitAvailable()) {
    const r = systemctl(['disable', '--now', 'nqgw.service']);
    return r.status === 0
      ? {
          ok: true,
          detail: 'systemctl disable --now nqgw.service: stopped, and no daily start here any more',
        }
      : {
          ok: false,
          detail: `systemctl disable --now nqgw.service failed (${r.status ?? 'no exit status'})${r.stderr ? `: ${r.stderr}` : ''}`,
          hint: 'run it by hand and check systemctl is-enabled nqgw (must say disabled)',
        };
  }
  const status = await readStatusSnapshot(config.files.stateDir);
  const holder = OrderFileLock.holder(config.files.orders);
  const pid = status?.pid ?? null;
  // Only the gateway that serves these files: the lock's holder on this host, alive.
  if (
    pid === null ||
    !isAlive(pid) ||
    holder === null ||
    holder.pid !== pid ||
    !OrderFileLock.holderRunning(holder)
  ) {
    return { ok: true, detail: 'no gateway of this tw.ini is running here: nothing to stop' };
  }
  const gone = await stopPid(pid);
  return gone
    ? { ok: true, detail: `gateway pid ${pid} stopped (SIGTERM); it released ${config.files.orders}.lock` }
    : { ok: false, detail: `gateway pid ${pid} did not stop`, hint: `kill -9 ${pid}` };
}

export async function runFailBack(
  options: FailBackOptions,
  sink: ReportSink | null,
  clock: Clock = systemClock,
  systemctl: SystemctlRunner = runSystemctl,
): Promise<CutoverResult> {
  const report = new CutoverReport(clock, sink);
  const base = {
    drill: false,
    preflightOnly: false,
    steps: report.steps,
    toFirstHeartbeatMs: null,
    startToHeartbeatMs: null,
    faultAt: null,
    rtoMs: null,
    gatewayPid: null,
    drillCreated: null,
  };
  const holder: { config?: TwConfig; approval?: Approval } = {};
  await report.run('config', 'configuration valid', () => {
    holder.config = loadConfig(options.config);
    return { verdict: 'OK', detail: `${holder.config.source}: station ${holder.config.station.id}` };
  });
  const config = holder.config;
  if (config === undefined) {
    return {
      ...base,
      go: false,
      exitCode: 2,
      totalMs: report.elapsed(),
      operator: null,
      approver: null,
      auditLog: null,
    };
  }
  await report.run('approval', 'approval and audit record', () => {
    const a = checkApproval(config.management.requireChecker, options.operator, options.approver);
    holder.approval = a;
    return {
      verdict: 'OK',
      detail: `operator ${a.operator}, ${a.approver === null ? 'no approver' : `approved by ${a.approver}`}; recorded in ${auditWritable(config.files.stateDir)}`,
    };
  });
  const approval = holder.approval;
  let ok = false;
  let detail = report.steps.at(-1)?.detail ?? '';
  const began = clock.now();
  if (approval !== undefined && !report.failed()) {
    const r = await stopHere(config, systemctl);
    ok = r.ok;
    detail = r.detail;
    report.add(
      'failback',
      'this replica no longer active',
      { verdict: r.ok ? 'OK' : 'FAIL', detail: r.detail, ...(r.hint ? { hint: r.hint } : {}) },
      began,
    );
  }
  const stopMs = clock.now() - began;
  let auditLog: string | null = null;
  try {
    auditLog = writeAudit(config.files.stateDir, {
      time: new Date(clock.now()).toISOString(),
      ...(approval ? approvalFields(approval) : { operator: options.operator?.trim() || 'unknown' }),
      ...(approval === undefined && options.approver?.trim() ? { approver: options.approver.trim() } : {}),
      source: cliSource(),
      action: 'fail-back',
      result: approval === undefined ? 'refused' : ok ? 'ok' : 'failed',
      detail,
      timings: { totalMs: report.elapsed(), stopMs },
    });
  } catch (err) {
    report.note(`WARNING: ${(err as Error).message}; record this by hand.`);
  }
  report.note(`${ok ? 'FAIL-BACK DONE' : 'FAIL-BACK NOT DONE'}: ${formatSeconds(report.elapsed())} in all.`);
  return {
    ...base,
    go: ok,
    exitCode: ok ? 0 : 3,
    totalMs: report.elapsed(),
    operator: approval?.operator ?? null,
    approver: approval?.approver ?? null,
    auditLog,
  };
}
