/**
 * `nqgw cutover --take-over-from HOST`: the lock of a gateway on another host that is down,
 * judged in the preflight and removed just before the start (gateway/lock.ts does both, atomic).
 *
 * Right after that host died its lease is still fresh (refreshed up to 2 s before). Rather than
 * refuse and make the operator run the command again, the preflight watches the lock: a running
 * holder refreshes it within LEASE_REFRESH_MS and the take-over is refused at once ("refreshed
 * its lock 0.4 s ago: it is running"); a dead one lets it lapse, and after LEASE_STALE_MS it is
 * taken over. Even a lease already stale by the clock is watched for MIN_WATCH_MS first, so a
 * holder whose file server's clock lags ours is still seen refreshing. Progress lines say what it
 * waits for.
 */
import { statSync } from 'node:fs';
import type { TwConfig } from '../config/index.js';
import {
  judgeForeignLock,
  LEASE_REFRESH_MS,
  LEASE_STALE_MS,
  takeOverForeignLock,
  TakeOverRefusedError,
  type ForeignLock,
} from '../gateway/index.js';
import type { AuditEntry } from '../ops/index.js';
import type { Clock } from '../shared/index.js';
import { approvalFields, cliSource, writeAudit, type Approval } from './approval.js';
import { formatSeconds, type CutoverReport, type ReportSink, type StepOutcome } from './report.js';

function mtimeOf(file: string): number | null {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return null;
  }
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Watch a lock at least this long before calling it stale: over two refreshes of a live holder. */
const MIN_WATCH_MS = 2 * LEASE_REFRESH_MS + 500;

/**
 * judgeForeignLock, waiting out a fresh lease (see above). Throws TakeOverRefusedError when
 * refused; returns the stale lock (holder null: no lock at all).
 */
export async function awaitStaleLease(
  ordersPath: string,
  host: string,
  progress: ReportSink | null,
  everyMs = 250,
): Promise<ForeignLock> {
  // What needs no watching is judged at once: no lock, another holder, no lease (throws).
  try {
    const judged = judgeForeignLock(ordersPath, host);
    if (judged.holder === null) return judged;
  } catch (err) {
    if (!(err instanceof TakeOverRefusedError) || err.code !== 'NQ615') throw err;
  }
  const lockFile = `${ordersPath}.lock`;
  const first = mtimeOf(lockFile);
  const began = Date.now();
  let said = began;
  for (;;) {
    await pause(everyMs);
    const m = mtimeOf(lockFile);
    // Refreshed while we watched (it runs: judged again, that says so) or gone.
    if (m === null || m !== first) return judgeForeignLock(ordersPath, host);
    const watched = Date.now() - began;
    // Stale by the clock, and seen unchanged for longer than a running gateway could wait: a
    // holder behind a file server whose clock lags ours still shows itself by a refresh.
    if (watched >= MIN_WATCH_MS && Date.now() - m >= LEASE_STALE_MS)
      return judgeForeignLock(ordersPath, host);
    if (watched >= LEASE_STALE_MS + 2 * LEASE_REFRESH_MS) {
      // Unchanged all that time, yet recent by our clock: the clocks disagree, not the lease.
      throw new TakeOverRefusedError(
        'NQ617',
        `${lockFile} has not changed for ${formatSeconds(watched)}, but by this host's clock it was written ${formatSeconds(Date.now() - m)} ago: the clocks of this host and the file server disagree`,
        'check the time on both (chronyc tracking); the holder is probably down, but a take-over needs the clocks right',
      );
    }
    if (Date.now() - said >= 2000) {
      said = Date.now();
      progress?.line(
        `         ... waiting for the lease of ${host} to lapse: last refreshed ${formatSeconds(Date.now() - m)} ago ` +
          `(a running gateway refreshes it every ${formatSeconds(LEASE_REFRESH_MS)}; taken over at ${formatSeconds(LEASE_STALE_MS)})`,
      );
    }
  }
}

/** The preflight's lock step with --take-over-from. */
export async function checkTakeOver(
  config: TwConfig,
  host: string,
  progress: ReportSink | null,
): Promise<StepOutcome> {
  const judged = await awaitStaleLease(config.files.orders, host, progress);
  if (judged.holder === null) {
    return { verdict: 'OK', detail: 'no gateway holds the order file lock: nothing to take over' };
  }
  const h = judged.holder;
  return {
    verdict: 'OK',
    detail: `${judged.lockFile} of ${h.host} (pid ${h.pid}, since ${h.since}): lease last refreshed ${formatSeconds(judged.ageMs ?? 0)} ago, it has stopped or its host is down; taken over just before the start`,
  };
}

/** The lock of a host that is down removed just before the start, and the take-over recorded. */
export function takeOver(
  report: CutoverReport,
  config: TwConfig,
  host: string,
  approval: Approval,
  clock: Clock,
): void {
  const began = clock.now();
  const base = {
    time: new Date(clock.now()).toISOString(),
    ...approvalFields(approval),
    source: cliSource(),
    action: 'lock-take-over',
    args: { host },
  };
  let entry: AuditEntry;
  try {
    const r = takeOverForeignLock(config.files.orders, host);
    const what =
      r.holder === null
        ? 'no lock was there any more'
        : `${r.lockFile} of ${r.holder.host} (pid ${r.holder.pid}, since ${r.holder.since}) removed; its lease was ${formatSeconds(r.ageMs ?? 0)} old`;
    report.add('takeover', `lock of ${host} taken over`, { verdict: 'OK', detail: what }, began);
    entry = { ...base, result: 'ok', detail: what };
  } catch (err) {
    const e = err as { code?: string; message?: string; hint?: string };
    const detail = `${e.code ? `[${e.code}] ` : ''}${e.message ?? String(err)}`;
    const outcome = { verdict: 'FAIL' as const, detail, ...(e.hint ? { hint: e.hint } : {}) };
    report.add('takeover', `lock of ${host} taken over`, outcome, began);
    entry = { ...base, result: 'refused', detail };
  }
  try {
    writeAudit(config.files.stateDir, entry);
  } catch (err) {
    report.note(`WARNING: ${(err as Error).message}; record the take-over by hand.`);
  }
}
