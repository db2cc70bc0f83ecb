/**
 * `nqgw cutover`: preflight, start as active, verify; or, with drill, the same against a scratch
 * site that is removed afterwards. Returns the exit code: 0 GO, 3 NO-GO, 2 bad input.
 */
import { loadConfig, type TwConfig } from '../config/index.js';
import { readStatusSnapshot } from '../gateway/index.js';
import { systemClock, type Clock } from '../shared/index.js';
import { makeScratch, removeScratch, type Scratch } from './drill.js';
import {
  checkClock,
  checkDrillDay,
  checkDirectories,
  checkMainStation,
  checkNoActive,
  checkReturnsToday,
  checkTls,
} from './preflight.js';
import { CutoverReport, formatSeconds, type ReportSink, type StepRecord } from './report.js';
import {
  enableDailyStart,
  planStart,
  runSystemctl,
  startGateway,
  stopPid,
  tail,
  verifyGateway,
  type Started,
  type SystemctlRunner,
  type VerifyPhase,
} from './start.js';

export const CUTOVER_EXIT = { GO: 0, BAD_INPUT: 2, NO_GO: 3 } as const;

export interface CutoverOptions {
  config: string;
  drill?: boolean;
  /** Replaces the default start (systemctl or spawn); `{config}` is replaced by the tw.ini path. */
  startCommand?: string;
  /** Seconds to wait for logon and first heartbeat after the start. Default 60. */
  timeoutS?: number;
}

export interface CutoverResult {
  go: boolean;
  exitCode: number;
  drill: boolean;
  steps: StepRecord[];
  /** From the start of the command to the first heartbeat, when reached. */
  toFirstHeartbeatMs: number | null;
  /** From the start of the gateway to the first heartbeat, when reached. */
  startToHeartbeatMs: number | null;
  gatewayPid: number | null;
}

const PHASE_TITLE: Record<VerifyPhase, string> = {
  process: 'gateway running (status.json, pid alive)',
  logon: 'logon answered (通信状态 正常)',
  heartbeat: 'first heartbeat from the main station',
};

async function preflight(
  report: CutoverReport,
  config: TwConfig,
  clock: Clock,
  lockConfig: TwConfig,
): Promise<void> {
  await report.run('lock', 'no other active gateway', () => checkNoActive(lockConfig));
  await report.run('dirs', 'NQWT/NQHB directories writable', () => checkDirectories(config));
  await report.run('nqhb', 'NQHB.DBF is today', () => checkReturnsToday(config, clock));
  await report.run('tls', 'TLS credentials present', () => checkTls(config));
  await report.run('clock', 'clock not in alarm', () => checkClock(config));
  await report.run('mainstation', 'main station reachable (TLS, no logon)', () => checkMainStation(config));
}

export async function runCutover(
  options: CutoverOptions,
  sink: ReportSink | null,
  clock: Clock = systemClock,
  systemctl: SystemctlRunner = runSystemctl,
): Promise<CutoverResult> {
  const report = new CutoverReport(clock, sink);
  const drill = options.drill === true;
  const result = (go: boolean, exitCode: number, extra: Partial<CutoverResult> = {}): CutoverResult => ({
    go,
    exitCode,
    drill,
    steps: report.steps,
    toFirstHeartbeatMs: null,
    startToHeartbeatMs: null,
    gatewayPid: null,
    ...extra,
  });
  const timeoutS = options.timeoutS ?? 60;
  if (!(timeoutS > 0)) {
    report.add('args', 'arguments', {
      verdict: 'FAIL',
      detail: `--timeout ${timeoutS} is not a positive number of seconds`,
    });
    return result(false, CUTOVER_EXIT.BAD_INPUT);
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

  let scratch: Scratch | null = null;
  let target = realConfig;
  if (drill) {
    const made = await makeScratch(realConfig);
    scratch = made;
    target = loadConfig(made.twIni);
    report.note(`scratch site: ${made.dir}`);
    await report.run('drillday', 'today is a non-trading day (drills are for those)', () =>
      checkDrillDay(realConfig, clock),
    );
  }
  let outcome: CutoverResult;
  try {
    // The drill logs on as the same station, so a live gateway on the real files blocks it too.
    await preflight(report, target, clock, realConfig);
    if (report.failed()) {
      report.note(`NO-GO: preflight failed; nothing was started (${formatSeconds(report.elapsed())}).`);
      return result(false, CUTOVER_EXIT.NO_GO);
    }
    outcome = await startAndVerify(report, target, options, timeoutS, clock, result, scratch, systemctl);
  } finally {
    if (scratch) {
      const dir = scratch.dir;
      await report.run('drill-cleanup', 'drill data removed', () => {
        removeScratch(dir);
        return { verdict: 'OK', detail: `${dir} deleted; the real files were not touched` };
      });
    }
  }
  const hb =
    outcome.toFirstHeartbeatMs === null
      ? ''
      : `; first heartbeat ${formatSeconds(outcome.toFirstHeartbeatMs)} after the command started`;
  report.note(
    `${outcome.go ? 'GO' : 'NO-GO'}${drill ? ' (drill)' : ''}: ${formatSeconds(report.elapsed())} in all${hb}.`,
  );
  return outcome;
}

async function startAndVerify(
  report: CutoverReport,
  config: TwConfig,
  options: CutoverOptions,
  timeoutS: number,
  clock: Clock,
  result: (go: boolean, exitCode: number, extra?: Partial<CutoverResult>) => CutoverResult,
  scratch: Scratch | null,
  systemctl: SystemctlRunner,
): Promise<CutoverResult> {
  const plan = planStart(config.source, options.startCommand, scratch === null);
  const holder: { started?: Started } = {};
  const startedAt = clock.now();
  await report.run('start', 'start as active', () => {
    const s = startGateway(plan, config.source, config.files.stateDir);
    holder.started = s;
    const out = plan.kind === 'systemd' ? 'journalctl -u nqgw' : s.outFile;
    return { verdict: 'OK', detail: `${plan.describe} (output: ${out})` };
  });
  const run = holder.started;
  if (run === undefined) {
    report.note('NO-GO: the gateway could not be started.');
    return result(false, CUTOVER_EXIT.NO_GO);
  }
  let pid: number | null = null;
  let phaseBegan = clock.now();
  const verdict = await verifyGateway(
    config.files.stateDir,
    startedAt,
    clock.now() + timeoutS * 1000,
    run,
    {
      reached: (phase, status) => {
        pid = status.pid;
        const detail =
          phase === 'process'
            ? `pid ${status.pid}`
            : phase === 'logon'
              ? `server ${status.server ?? '-'}`
              : `heartbeat at ${status.lastHeartbeatAt ?? '?'}; ${formatSeconds(clock.now() - startedAt)} after the start`;
        report.add(phase, PHASE_TITLE[phase], { verdict: 'OK', detail }, phaseBegan);
        phaseBegan = clock.now();
      },
    },
    () => clock.now(),
  );
  let extra: Partial<CutoverResult> = { gatewayPid: pid };
  if (verdict.ok) {
    const hb = report.steps.find((s) => s.step === 'heartbeat');
    extra = {
      ...extra,
      toFirstHeartbeatMs: hb?.elapsedMs ?? null,
      startToHeartbeatMs: clock.now() - startedAt,
    };
  } else {
    const out = run.plan.kind === 'systemd' ? 'see journalctl -u nqgw' : tail(run.outFile);
    report.add(
      verdict.phase,
      PHASE_TITLE[verdict.phase],
      {
        verdict: 'FAIL',
        detail: verdict.reason + (out ? `\n${out.replace(/^/gm, '    | ')}` : ''),
        hint: hintFor(verdict.phase),
      },
      phaseBegan,
    );
  }

  if (scratch) {
    const status = await readStatusSnapshot(config.files.stateDir);
    const victim = pid ?? status?.pid ?? run.child?.pid ?? null;
    await report.run('drill-stop', 'drill gateway stopped', async () => {
      if (victim === null) return { verdict: 'OK', detail: 'nothing to stop' };
      const gone = await stopPid(victim);
      return gone
        ? { verdict: 'OK', detail: `pid ${victim} stopped (SIGTERM)` }
        : { verdict: 'FAIL', detail: `pid ${victim} did not stop`, hint: `kill -9 ${victim}` };
    });
  }
  const go = verdict.ok && !report.failed();
  // Only a verified GO makes this the replica that starts itself each trading morning.
  const enabled = enableDailyStart(plan, go, scratch !== null, systemctl);
  if (enabled) report.add('enable', 'daily start (nqgw.service enabled)', enabled);
  if (!go && !scratch && pid !== null) {
    report.note(
      `the gateway (pid ${pid}) was left running: it keeps trying the servers. Stop it with kill ${pid} if you decide against it.`,
    );
  }
  return result(go, go ? CUTOVER_EXIT.GO : CUTOVER_EXIT.NO_GO, extra);
}

function hintFor(phase: VerifyPhase): string {
  switch (phase) {
    case 'process':
      return 'the gateway did not start or stopped: read the output above (or journalctl -u nqgw) and nqgw status';
    case 'logon':
      return 'the main station did not accept the logon: check nqgw status (特别提示), the certificate and that no other site is logged on as this station';
    case 'heartbeat':
      return 'logged on but no heartbeat heard: watch nqgw status for a minute; if the link drops, check the 专线 and the main station';
  }
}
