/**
 * The second half of a cutover: start the gateway as the active one, watch it log on and hear
 * the first heartbeat (printing what it waits for while it waits), stop it again in a drill, and
 * enable the daily start after a real GO.
 */
import type { TwConfig } from '../config/index.js';
import { readStatusSnapshot } from '../gateway/index.js';
import type { Clock } from '../shared/index.js';
import type { Scratch } from './drill.js';
import { formatSeconds, type CutoverReport, type ReportSink } from './report.js';
import {
  enableDailyStart,
  planStart,
  startGateway,
  stopPid,
  tail,
  verifyGateway,
  type Started,
  type SystemctlRunner,
  type VerifyPhase,
} from './start.js';

export const PHASE_TITLE: Record<VerifyPhase, string> = {
  process: 'gateway running (status.json, pid alive)',
  logon: 'logon answered (通信状态 正常)',
  heartbeat: 'first heartbeat from the main station',
};

/** What is awaited, in the progress lines. */
const WAITING_FOR: Record<VerifyPhase, string> = {
  process: 'the gateway process to start and write status.json',
  logon: "the main station's answer to the logon",
  heartbeat:
    'the first heartbeat from the main station (it heartbeats about every 10 s: up to one interval after the logon)',
};

export interface GoOutcome {
  go: boolean;
  pid: number | null;
  /** From the start of the command to the first heartbeat, when reached. */
  toFirstHeartbeatMs: number | null;
  /** From the start of the gateway to the first heartbeat, when reached. */
  startToHeartbeatMs: number | null;
  /** Clock time of the first heartbeat seen, when reached (the end of the RTO). */
  heartbeatAt: number | null;
}

export interface GoInput {
  report: CutoverReport;
  config: TwConfig;
  startCommand: string | undefined;
  timeoutS: number;
  clock: Clock;
  scratch: Scratch | null;
  systemctl: SystemctlRunner;
  /** Progress lines while waiting (not steps: they are not in the JSON record). */
  progress: ReportSink | null;
}

export async function startAndVerify(input: GoInput): Promise<GoOutcome> {
  const { report, config, clock, scratch, progress } = input;
  const none: GoOutcome = {
    go: false,
    pid: null,
    toFirstHeartbeatMs: null,
    startToHeartbeatMs: null,
    heartbeatAt: null,
  };
  const plan = planStart(config.source, input.startCommand, scratch === null);
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
    return none;
  }
  let pid: number | null = null;
  let phaseBegan = clock.now();
  let heartbeatAt: number | null = null;
  const verdict = await verifyGateway(
    config.files.stateDir,
    startedAt,
    clock.now() + input.timeoutS * 1000,
    run,
    {
      reached: (phase, status) => {
        pid = status.pid;
        if (phase === 'heartbeat') heartbeatAt = clock.now();
        const detail =
          phase === 'process'
            ? `pid ${status.pid}`
            : phase === 'logon'
              ? `server ${status.server ?? '-'}`
              : `heartbeat at ${status.lastHeartbeatAt ?? '?'}; ${formatSeconds(clock.now() - startedAt)} after the start`;
        report.add(phase, PHASE_TITLE[phase], { verdict: 'OK', detail }, phaseBegan);
        phaseBegan = clock.now();
      },
      waiting: (phase, status) => {
        const link = status
          ? `; 通信状态 ${status.linkState}${status.notice ? `, 特别提示 ${status.notice}` : ''}`
          : '';
        progress?.line(
          `         ... waiting for ${WAITING_FOR[phase]}: ${formatSeconds(clock.now() - phaseBegan)} so far, ` +
            `${formatSeconds(report.elapsed())} since the command started (--timeout ${input.timeoutS} s)${link}`,
        );
      },
    },
    () => clock.now(),
  );
  let outcome: GoOutcome = { ...none, pid };
  if (verdict.ok) {
    const hb = report.steps.find((s) => s.step === 'heartbeat');
    outcome = {
      go: true,
      pid,
      toFirstHeartbeatMs: hb?.elapsedMs ?? null,
      startToHeartbeatMs: (heartbeatAt ?? clock.now()) - startedAt,
      heartbeatAt,
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
  const enabled = enableDailyStart(plan, go, scratch !== null, input.systemctl);
  if (enabled) report.add('enable', 'daily start (nqgw.service enabled)', enabled);
  if (!go && !scratch && pid !== null) {
    report.note(
      `the gateway (pid ${pid}) was left running: it keeps trying the servers. Stop it with kill ${pid} if you decide against it.`,
    );
  }
  return { ...outcome, go };
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
