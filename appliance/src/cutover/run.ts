/**
 * `nqgw cutover`: preflight, start as active, verify; or, with drill, the same against a scratch
 * site that is removed afterwards; or, with preflightOnly, the checks alone (no start, no logon).
 * Approved and recorded (approval.ts), timed from the fault when its time is given (timing.ts).
 * Returns the exit code: 0 GO, 3 NO-GO, 2 bad input; preflight-only 0 ready, 1 not ready.
 */
import { loadConfig, type TwConfig } from '../config/index.js';
import type { AuditEntry } from '../ops/index.js';
import { systemClock, type Clock } from '../shared/index.js';
import {
  approvalFields,
  auditWritable,
  checkApproval,
  cliSource,
  writeAudit,
  type Approval,
} from './approval.js';
import { listScratch, makeScratch, removeScratch, type Scratch } from './drill.js';
import { startAndVerify, type GoOutcome } from './go.js';
import {
  checkClock,
  checkDrillDay,
  checkDirectories,
  checkMainStation,
  checkNoActive,
  checkReturnsToday,
  checkTls,
  type LockCheckOptions,
} from './preflight.js';
import { CutoverReport, formatSeconds, type ReportSink, type StepRecord } from './report.js';
import { runSystemctl, type SystemctlRunner } from './start.js';
import { checkTakeOver, takeOver } from './takeover.js';
import { parseFaultAt, rtoLine } from './timing.js';

export const CUTOVER_EXIT = { GO: 0, NOT_READY: 1, BAD_INPUT: 2, NO_GO: 3 } as const;

export interface CutoverOptions {
  config: string;
  drill?: boolean;
  /** Replaces the default start (systemctl or spawn); `{config}` is replaced by the tw.ini path. */
  startCommand?: string;
  /** Seconds to wait for logon and first heartbeat after the start. Default 60. */
  timeoutS?: number;
  /** Who acts and who approved (recorded; require_checker = yes makes the approver required). */
  operator?: string;
  approver?: string;
  /** When the fault at the main centre happened: the report gives RTO from it. */
  faultAt?: string;
  /** Every check up to the TLS handshake; no start, no logon, nothing recorded. */
  preflightOnly?: boolean;
  /** Run a drill on a trading day (or a day the calendar does not know). */
  force?: boolean;
  /** Remove the stale lock of the gateway on this host (its lease lapsed) before the start. */
  takeOverFrom?: string;
}

export interface CutoverResult {
  go: boolean;
  exitCode: number;
  drill: boolean;
  preflightOnly: boolean;
  steps: StepRecord[];
  /** From the start of the command to the first heartbeat, when reached. */
  toFirstHeartbeatMs: number | null;
  /** From the start of the gateway to the first heartbeat, when reached. */
  startToHeartbeatMs: number | null;
  /** The whole command. */
  totalMs: number;
  /** --fault-at as ISO, and the RTO from it to the first heartbeat, when both are known. */
  faultAt: string | null;
  rtoMs: number | null;
  gatewayPid: number | null;
  operator: string | null;
  approver: string | null;
  /** What the drill created in its scratch site (relative paths), all removed. */
  drillCreated: string[] | null;
  /** The audit log written, when one was. */
  auditLog: string | null;
}

async function preflight(
  report: CutoverReport,
  config: TwConfig,
  clock: Clock,
  lockConfig: TwConfig,
  lock: LockCheckOptions,
  progress: ReportSink | null = null,
): Promise<void> {
  const host = lock.takeOverFrom;
  await report.run('lock', 'no other active gateway', () =>
    host === undefined ? checkNoActive(lockConfig, lock) : checkTakeOver(lockConfig, host, progress),
  );
  await report.run('dirs', 'NQWT/NQHB directories writable', () => checkDirectories(config));
  await report.run('nqhb', 'NQHB.DBF is today', () => checkReturnsToday(config, clock));
  await report.run('tls', 'TLS credentials present', () => checkTls(config));
  await report.run('clock', 'clock not in alarm', () => checkClock(config));
  await report.run('mainstation', 'main station reachable (TLS, no logon)', () => checkMainStation(config));
}

/** Arguments that cannot go together, or null. */
function argumentProblem(o: CutoverOptions, timeoutS: number): string | null {
  if (!(timeoutS > 0)) return `--timeout ${timeoutS} is not a positive number of seconds`;
  if (o.preflightOnly && o.drill) return '--preflight-only and --drill: choose one';
  if (o.preflightOnly && o.takeOverFrom !== undefined)
    return '--preflight-only checks only: it takes nothing over';
  if (o.drill && o.takeOverFrom !== undefined)
    return '--drill never touches the real lock: no --take-over-from';
  if (o.force && !o.drill) return '--force is for a drill on a trading day (--drill)';
  if (o.takeOverFrom !== undefined && o.takeOverFrom.trim() === '')
    return '--take-over-from needs a host name';
  return null;
}

export async function runCutover(
  options: CutoverOptions,
  sink: ReportSink | null,
  clock: Clock = systemClock,
  systemctl: SystemctlRunner = runSystemctl,
  progress: ReportSink | null = sink,
): Promise<CutoverResult> {
  const report = new CutoverReport(clock, sink);
  const drill = options.drill === true;
  const preflightOnly = options.preflightOnly === true;
  const record: Partial<CutoverResult> = {};
  const result = (go: boolean, exitCode: number, extra: Partial<CutoverResult> = {}): CutoverResult => ({
    go,
    exitCode,
    drill,
    preflightOnly,
    steps: report.steps,
    toFirstHeartbeatMs: null,
    startToHeartbeatMs: null,
    totalMs: report.elapsed(),
    faultAt: null,
    rtoMs: null,
    gatewayPid: null,
    operator: null,
    approver: null,
    drillCreated: null,
    auditLog: null,
    ...record,
    ...extra,
  });
  const timeoutS = options.timeoutS ?? 60;
  const problem = argumentProblem(options, timeoutS);
  if (problem !== null) {
    report.add('args', 'arguments', { verdict: 'FAIL', detail: problem });
    return result(false, CUTOVER_EXIT.BAD_INPUT);
  }
  let faultAt: number | null = null;
  if (options.faultAt !== undefined) {
    await report.run('args', 'arguments', () => {
      faultAt = parseFaultAt(options.faultAt!, clock.now());
      return { verdict: 'OK', detail: `fault at ${new Date(faultAt).toISOString()} (RTO counted from it)` };
    });
    if (report.failed()) return result(false, CUTOVER_EXIT.BAD_INPUT);
    record.faultAt = new Date(faultAt!).toISOString();
  }
  if (drill) {
    report.note(
      'DRILL: scratch interface files, same station, servers and credentials; nothing is left behind.',
    );
  }

  const loaded: { config?: TwConfig } = {};
  await report.run('config', 'configuration valid', () => {
    const c = loadConfig(options.config);
    loaded.config = c;
    return {
      verdict: 'OK',
      detail: `${c.source}: station ${c.station.id}, ${c.servers.length} server(s), tls ${c.tls.mode}`,
    };
  });
  const realConfig = loaded.config;
  if (realConfig === undefined) {
    const problems = (report.steps.at(-1)?.detail ?? '').split('\n').length;
    report.note(
      `NO-GO: correct tw.ini first (nqgw config check ${options.config} lists every problem; ${problems} line(s) above).`,
    );
    return result(false, CUTOVER_EXIT.BAD_INPUT);
  }

  if (preflightOnly) {
    await preflight(report, realConfig, clock, realConfig, { preflightOnly: true });
    const ready = !report.failed();
    report.note(
      `${ready ? 'READY' : 'NOT READY'}: ${formatSeconds(report.elapsed())}; preflight only, nothing started, no logon.`,
    );
    return result(ready, ready ? CUTOVER_EXIT.GO : CUTOVER_EXIT.NOT_READY);
  }

  // Approval before anything is touched; a refusal is recorded too (the log shows attempts).
  const action = drill ? 'cutover-drill' : 'cutover';
  const args = {
    ...(options.takeOverFrom !== undefined ? { takeOverFrom: options.takeOverFrom } : {}),
    ...(options.force ? { force: true } : {}),
    ...(options.faultAt !== undefined ? { faultAt: record.faultAt } : {}),
  };
  const people: { approval?: Approval } = {};
  await report.run('approval', 'approval and audit record', () => {
    const a = checkApproval(realConfig.management.requireChecker, options.operator, options.approver);
    people.approval = a;
    const file = auditWritable(realConfig.files.stateDir);
    return {
      verdict: 'OK',
      detail: `operator ${a.operator}, ${a.approver === null ? 'no approver' : `approved by ${a.approver}`}; recorded in ${file}`,
    };
  });
  const approval = people.approval;
  if (approval === undefined || report.failed()) {
    const refusal = report.steps.at(-1)?.detail ?? 'refused';
    tryAudit(realConfig, {
      time: new Date(clock.now()).toISOString(),
      operator: options.operator?.trim() || 'unknown',
      ...(options.approver?.trim() ? { approver: options.approver.trim() } : {}),
      source: cliSource(),
      action,
      args,
      result: 'refused',
      detail: refusal,
    });
    report.note('NO-GO: not approved; nothing was started.');
    return result(false, CUTOVER_EXIT.NO_GO);
  }
  record.operator = approval.operator;
  record.approver = approval.approver;

  let scratch: Scratch | null = null;
  let target = realConfig;
  if (drill) {
    const made = await makeScratch(realConfig);
    scratch = made;
    target = loadConfig(made.twIni);
    report.note(`scratch site: ${made.dir}`);
    await report.run('drillday', 'drill day (exchange calendar)', () =>
      checkDrillDay(realConfig, clock, options.force === true),
    );
  }
  let outcome: GoOutcome | null = null;
  try {
    // The drill logs on as the same station, so a live gateway on the real files blocks it too.
    await preflight(
      report,
      target,
      clock,
      realConfig,
      { ...(options.takeOverFrom !== undefined ? { takeOverFrom: options.takeOverFrom.trim() } : {}) },
      progress,
    );
    if (report.failed()) {
      report.note('preflight failed: nothing was started.');
    } else {
      if (options.takeOverFrom !== undefined)
        takeOver(report, realConfig, options.takeOverFrom.trim(), approval, clock);
      if (!report.failed()) {
        outcome = await startAndVerify({
          report,
          config: target,
          startCommand: options.startCommand,
          timeoutS,
          clock,
          scratch,
          systemctl,
          progress,
        });
      }
    }
  } finally {
    if (scratch) cleanUp(report, scratch, record);
  }
  const go = outcome?.go === true && !report.failed();
  const hbAt = outcome?.heartbeatAt ?? null;
  if (faultAt !== null && hbAt !== null) record.rtoMs = hbAt - faultAt;
  const hb =
    outcome?.toFirstHeartbeatMs == null
      ? ''
      : `; first heartbeat ${formatSeconds(outcome.toFirstHeartbeatMs)} after the command started`;
  report.note(
    `${go ? 'GO' : 'NO-GO'}${drill ? ' (drill)' : ''}: ${formatSeconds(report.elapsed())} in all${hb}.`,
  );
  if (faultAt !== null && hbAt !== null)
    report.note(rtoLine(faultAt, hbAt, outcome?.toFirstHeartbeatMs ?? 0));
  else if (faultAt !== null)
    report.note('RTO: not reached (no first heartbeat): the recovery is not complete.');
  const final = result(go, go ? CUTOVER_EXIT.GO : CUTOVER_EXIT.NO_GO, {
    toFirstHeartbeatMs: outcome?.toFirstHeartbeatMs ?? null,
    startToHeartbeatMs: outcome?.startToHeartbeatMs ?? null,
    gatewayPid: outcome?.pid ?? null,
  });
  const failedStep = report.steps.find((s) => s.verdict === 'FAIL');
  const written = tryAudit(realConfig, {
    time: new Date(clock.now()).toISOString(),
    ...approvalFields(approval),
    source: cliSource(),
    action,
    args,
    // Nothing started (a preflight or drill-day refusal) is a refusal; a start that did not verify, a failure.
    result: go ? 'ok' : outcome === null ? 'refused' : 'failed',
    detail: go
      ? `GO${drill ? ' (drill)' : ''}${final.gatewayPid !== null && !drill ? `: gateway pid ${final.gatewayPid}` : ''}`
      : `NO-GO at ${failedStep?.title ?? '?'}: ${(failedStep?.detail ?? '').split('\n')[0]}`,
    timings: {
      totalMs: final.totalMs,
      toFirstHeartbeatMs: final.toFirstHeartbeatMs,
      startToHeartbeatMs: final.startToHeartbeatMs,
      faultAt: final.faultAt,
      rtoMs: final.rtoMs,
    },
  });
  if (written === null)
    report.note('WARNING: the audit log could not be written (see above); record this by hand.');
  return { ...final, totalMs: report.elapsed(), auditLog: written };
}

/** The audit file written, or null (said on stderr: the run's outcome is printed regardless). */
function tryAudit(config: TwConfig, entry: AuditEntry): string | null {
  try {
    return writeAudit(config.files.stateDir, entry);
  } catch (err) {
    process.stderr.write(`[${(err as { code?: string }).code ?? 'NQ622'}] ${(err as Error).message}\n`);
    return null;
  }
}

/** What the drill created, then removed: listed in the report (seed 002 §5.1: no test data left). */
function cleanUp(report: CutoverReport, scratch: Scratch, record: Partial<CutoverResult>): void {
  const created = listScratch(scratch.dir);
  record.drillCreated = created.files;
  const gone = removeScratch(scratch.dir);
  const shown = created.files.length > 12 ? [...created.files.slice(0, 12), '…'] : created.files;
  report.add(
    'drill-cleanup',
    'drill data removed',
    gone
      ? {
          verdict: 'OK',
          detail: `${scratch.dir} deleted: ${created.files.length} file(s), ${created.bytes} bytes created by the drill (${shown.join(', ')}); the real files were not touched, nothing was shipped`,
        }
      : { verdict: 'FAIL', detail: `${scratch.dir} could not be removed`, hint: `rm -rf ${scratch.dir}` },
  );
}
