/**
 * Starting the gateway as the active one and watching status.json until the main station has
 * answered the logon and sent its first heartbeat.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readStatusSnapshot, type GatewayStatus } from '../gateway/index.js';
import { findUp, isAlive } from '../shared/index.js';
import type { StepOutcome } from './report.js';

export const GATEWAY_OUT = 'gateway.out';

/** The tw.ini that image/systemd/nqgw.service runs. */
export const UNIT_CONFIG = '/etc/nqgw/tw.ini';

/** The repository (or installed bundle) root: the directory holding bin/nqgw.js. */
export function appRoot(): string {
  const bin = findUp(path.dirname(fileURLToPath(import.meta.url)), path.join('bin', 'nqgw.js'));
  if (bin !== null) return path.dirname(path.dirname(bin));
  throw new Error('cannot find bin/nqgw.js above the cutover module');
}

/** systemd is PID 1 and knows nqgw.service. */
export function systemdUnitAvailable(): boolean {
  if (!existsSync('/run/systemd/system')) return false;
  const r = spawnSync('systemctl', ['cat', 'nqgw.service'], { stdio: 'ignore' });
  return r.status === 0;
}

export interface StartPlan {
  kind: 'systemd' | 'spawn' | 'command';
  /** What is printed. */
  describe: string;
}

export interface Started {
  plan: StartPlan;
  /** The detached child (spawn/command); null for systemd. */
  child: ChildProcess | null;
  /** Exit code once the child has ended (a foreground command that failed, or systemctl). */
  exit: () => number | null;
  outFile: string;
}

/** `{config}` in a --start-command is replaced by the tw.ini path (the drill's scratch one). */
export function planStart(
  configPath: string,
  startCommand: string | undefined,
  allowSystemd: boolean,
): StartPlan {
  if (startCommand !== undefined) {
    return { kind: 'command', describe: startCommand.replaceAll('{config}', configPath) };
  }
  // The unit runs /etc/nqgw/tw.ini: use it only when that is the file being cut over.
  if (allowSystemd && path.resolve(configPath) === UNIT_CONFIG && systemdUnitAvailable()) {
    return { kind: 'systemd', describe: 'systemctl start nqgw' };
  }
  return {
    kind: 'spawn',
    describe: `${process.execPath} ${path.join(appRoot(), 'bin', 'nqgw.js')} run --config ${configPath}`,
  };
}

/** Start it; output of a spawned gateway goes to state_dir/gateway.out (appended). */
export function startGateway(plan: StartPlan, configPath: string, stateDir: string): Started {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const outFile = path.join(stateDir, GATEWAY_OUT);
  if (plan.kind === 'systemd') {
    const r = spawnSync('systemctl', ['start', 'nqgw'], { encoding: 'utf8' });
    if (r.status !== 0) {
      throw new Error(`systemctl start nqgw failed (${r.status}): ${(r.stderr || '').trim()}`);
    }
    return { plan, child: null, exit: () => null, outFile };
  }
  const fd = openSync(outFile, 'a', 0o600);
  let child: ChildProcess;
  try {
    child =
      plan.kind === 'spawn'
        ? spawn(process.execPath, [path.join(appRoot(), 'bin', 'nqgw.js'), 'run', '--config', configPath], {
            detached: true,
            stdio: ['ignore', fd, fd],
          })
        : spawn('/bin/sh', ['-c', plan.describe], { detached: true, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  let code: number | null = null;
  child.on('exit', (c, signal) => {
    code = c ?? (signal ? 128 : 1);
  });
  child.on('error', () => {
    code = 127;
  });
  child.unref();
  return { plan, child, exit: () => code, outFile };
}

/** Runs `systemctl ARGS`; injected by the tests, which have no systemd to talk to. */
export type SystemctlRunner = (args: string[]) => { status: number | null; stderr: string };

export const runSystemctl: SystemctlRunner = (args) => {
  const r = spawnSync('systemctl', args, { encoding: 'utf8' });
  return { status: r.status, stderr: (r.stderr || r.error?.message || '').trim() };
};

/** What the report says on success; docs/operations.md quotes it. */
export const ENABLED_NOTE = 'nqgw.service enabled: this replica starts each trading morning';

/**
 * After a GO: mark this replica as the active one by enabling nqgw.service. nqgw-daily.timer
 * (image/systemd) starts nqgw.service each trading morning only where it is enabled, because the
 * gateway exits after the close (auto_exit) and a clean exit is not restarted. A standby's unit
 * stays disabled, so the same timer on it does nothing. Fail-back: systemctl disable --now nqgw.
 *
 * Returns null when there is nothing to do: not a GO, a drill (which must leave the host as it
 * was), or a gateway not started through systemd (lab, --start-command: no unit to enable).
 * A failure to enable is a WARN: today's gateway is up and logged on, only tomorrow's automatic
 * start is missing, which the operator can fix by hand; it must not turn a GO into a NO-GO.
 */
export function enableDailyStart(
  plan: StartPlan,
  go: boolean,
  drill: boolean,
  systemctl: SystemctlRunner = runSystemctl,
): StepOutcome | null {
  if (!go || drill || plan.kind !== 'systemd') return null;
  const r = systemctl(['enable', 'nqgw.service']);
  if (r.status === 0) {
    return {
      verdict: 'OK',
      detail: `${ENABLED_NOTE} (nqgw-daily.timer; fail back with systemctl disable --now nqgw)`,
    };
  }
  return {
    verdict: 'WARN',
    detail: `systemctl enable nqgw.service failed (${r.status ?? 'no exit status'})${r.stderr ? `: ${r.stderr}` : ''}`,
    hint: 'the gateway is running; run systemctl enable nqgw.service by hand, or tomorrow morning nobody starts it',
  };
}

export function tail(file: string, lines = 8): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

export type VerifyPhase = 'process' | 'logon' | 'heartbeat';

export interface VerifyEvents {
  /** Called once per phase, in order, when it is reached. */
  reached(phase: VerifyPhase, status: GatewayStatus): void;
  /** Called about every `progressMs` while the next phase is awaited (for the progress lines). */
  waiting?(phase: VerifyPhase, status: GatewayStatus | null): void;
}

/** The gateway's log line for a logon the main station answered with a refusal (link/active.ts). */
const REFUSAL_PREFIX = '主站拒绝登录';

/**
 * The main station's refusal of a logon by this gateway, from its status snapshot's log. Known
 * about a second after the start (a logon round trip and a 500 ms snapshot): no reason to wait
 * out --timeout, the gateway would only be refused again at each retry.
 */
export function logonRefusal(status: GatewayStatus, since: number): string | null {
  const line = status.log.find(
    (l) => l.time >= since - 1000 && l.text.startsWith(REFUSAL_PREFIX) && !l.text.includes(SESSION_ONLINE),
  );
  if (line === undefined) return null;
  return `${line.code ? `[${line.code}] ` : ''}${line.text}`;
}

/**
 * Not a reason to give up: after the old active died, the main station holds its session until it
 * has been silent 30 s, and refuses the new logon as "小站…已有连接在线" until then. The gateway
 * retries; the cutover waits (the progress lines say so).
 */
const SESSION_ONLINE = '已有连接在线';

export type VerifyResult =
  | { ok: true; status: GatewayStatus }
  | { ok: false; phase: VerifyPhase; reason: string; status: GatewayStatus | null };

/**
 * Poll state_dir/status.json until a gateway started after `since` (ms) is up, logged on (链路
 * 正常) and has heard one heartbeat from the main station, or until `deadline` (ms).
 */
export async function verifyGateway(
  stateDir: string,
  since: number,
  deadline: number,
  started: Started,
  events: VerifyEvents,
  now: () => number = Date.now,
  everyMs = 100,
  progressMs = 2000,
): Promise<VerifyResult> {
  const phases: VerifyPhase[] = ['process', 'logon', 'heartbeat'];
  let next = 0;
  let last: GatewayStatus | null = null;
  let lastProgress = now();
  for (;;) {
    const s = await readStatusSnapshot(stateDir);
    const fresh = s !== null && Date.parse(s.startedAt) >= since - 1000 && isAlive(s.pid);
    if (fresh) {
      last = s;
      const reached = [true, s.linkState === '正常', s.linkState === '正常' && s.heartbeatsSinceLogon >= 1];
      const before = next;
      while (next < phases.length && reached[next]) events.reached(phases[next++]!, s);
      if (next === phases.length) return { ok: true, status: s };
      if (next !== before) lastProgress = now();
      const refusal = next === 1 ? logonRefusal(s, since) : null;
      if (refusal !== null) {
        return {
          ok: false,
          phase: 'logon',
          reason: `the main station refused the logon: ${refusal}`,
          status: s,
        };
      }
    } else if (last !== null) {
      return {
        ok: false,
        phase: phases[next]!,
        reason: `the gateway (pid ${last.pid}) is no longer running`,
        status: last,
      };
    }
    const code = started.exit();
    if (code !== null && code !== 0 && !fresh) {
      return {
        ok: false,
        phase: phases[next]!,
        reason: `the start command ended with exit code ${code}`,
        status: last,
      };
    }
    if (now() - lastProgress >= progressMs) {
      lastProgress = now();
      events.waiting?.(phases[next]!, last);
    }
    if (now() >= deadline) {
      const where = last
        ? `通信状态 ${last.linkState}, heartbeats ${last.heartbeatsSinceLogon}, notice: ${last.notice || '-'}`
        : 'no status.json from a new gateway';
      return { ok: false, phase: phases[next]!, reason: `timed out (${where})`, status: last };
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** SIGTERM a gateway and wait for it to go (SIGKILL after `graceMs`). */
export async function stopPid(pid: number, graceMs = 10_000): Promise<boolean> {
  if (!isAlive(pid)) return true;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return !isAlive(pid);
  }
  const until = Date.now() + graceMs;
  while (Date.now() < until) {
    if (!isAlive(pid)) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* gone */
  }
  await new Promise((r) => setTimeout(r, 200));
  return !isAlive(pid);
}
