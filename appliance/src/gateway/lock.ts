import { createHash, randomBytes } from 'node:crypto';
import os from 'node:os';
import { AppError, isAlive } from '../shared/index.js';
import {
  bootId,
  createExclusive,
  leaseAgeMs,
  processStartTime,
  readIfExists,
  sleepSync,
  touchLease,
  unlinkQuietly,
} from './lockfs.js';

/**
 * The host name written into lock records and compared with theirs. NQGW_LOCK_HOSTNAME is a test
 * seam, read here and nowhere else: two processes on one machine play two hosts sharing one
 * interface directory (the DR take-over tests). Never set it on a replica.
 */
export function lockHostname(): string {
  return process.env['NQGW_LOCK_HOSTNAME'] || os.hostname();
}

/**
 * The lease: every LEASE_REFRESH_MS a running gateway rewrites its lock file's bytes in place
 * (lockfs.touchLease), which sets its mtime, so a host that cannot see the holder's processes can
 * still tell a running holder (mtime seconds old) from a dead one (mtime stopped). A lock whose mtime is older than LEASE_STALE_MS (several
 * refreshes missed) may be taken over from another host by `nqgw cutover --take-over-from`.
 * The lease's age is this host's clock minus the mtime the file server stamped; the time service
 * keeps them within 100 ms, far below these figures (cutover's take-over also watches the file
 * for a refresh, which needs no clock: cutover/takeover.ts).
 */
export const LEASE_REFRESH_MS = 2_000;
export const LEASE_STALE_MS = 15_000;

/**
 * One gateway per NQWT.DBF. The lock file sits beside the order file (not in the gateway's own
 * state directory), so two gateways on two hosts pointed at one shared interface directory - the
 * vendor's "backup gateway pointed at the same files" - still see each other. It is created whole
 * or not at all; a lock left by a dead process on this host is taken over, one left by another
 * host is not (we cannot see its processes): the operator must confirm that host is down and
 * remove it.
 *
 * "Dead" is judged on more than the pid: pids are reused by the kernel and repeat across
 * container restarts (a fresh pid namespace gives the new gateway the old one's pid), so the lock
 * records the holder's start time and the boot it ran in, and a pid that now belongs to another
 * process (or to us) no longer holds it. Taking over is atomic: only the process that creates the
 * takeover marker named after the stale record may remove that record, so two gateways starting
 * together on a stale lock cannot both win.
 */
export class LockHeldError extends AppError {
  constructor(
    readonly lockFile: string,
    readonly holder: LockOwner | null,
  ) {
    super(
      'NQ705',
      holder
        ? `another gateway serves this order file: ${holder.host} pid ${holder.pid} since ${holder.since} (${lockFile})`
        : `the order file is locked by ${lockFile}`,
      holder && holder.host !== lockHostname()
        ? `Make sure the gateway on ${holder.host} is stopped, then delete ${lockFile}.`
        : 'Stop the other gateway first (nqgw stop), or remove the lock if it is certainly not running.',
    );
  }
}

export interface LockOwner {
  host: string;
  pid: number;
  since: string;
  station: string;
  /** The holder's start (clock ticks since boot, /proc/<pid>/stat); absent in older locks. */
  startTime?: number;
  /** The boot the holder ran in (/proc/sys/kernel/random/boot_id); absent in older locks. */
  bootId?: string;
  /** Makes every lock record unique, so a takeover removes exactly the record it judged. */
  nonce?: string;
  /** The holder refreshes the file (its mtime) every this many ms (absent: an older gateway, no lease). */
  leaseMs?: number;
}

type Verdict = 'alive' | 'dead' | 'elsewhere';

/** Tries before giving up while another process is in the middle of a takeover. */
const MAX_ATTEMPTS = 100;
const BUSY_WAIT_MS = 20;
/** Takeover markers left by takers that died in turn: followed this deep at most. */
const MAX_MARKER_DEPTH = 8;

function parseOwner(text: string | null): LockOwner | null {
  if (text === null) return null;
  try {
    const o = JSON.parse(text) as LockOwner;
    return typeof o?.host === 'string' && Number.isInteger(o.pid) ? o : null;
  } catch {
    return null;
  }
}

/** Is the process named by a lock record (or a takeover marker) still there? */
function judge(owner: LockOwner | null): Verdict {
  // A record we cannot read could be anyone's: refuse, as before (the operator looks).
  if (owner === null) return 'alive';
  if (owner.host !== lockHostname()) return 'elsewhere';
  const boot = bootId();
  if (owner.bootId && boot && owner.bootId !== boot) return 'dead';
  if (owner.pid === process.pid) {
    // Our pid in a lock we are only now taking: written by an earlier process that had our pid
    // (a restart in a fresh pid namespace), unless it is this very process (start time equal).
    return owner.startTime !== undefined && owner.startTime === processStartTime(process.pid)
      ? 'alive'
      : 'dead';
  }
  if (!isAlive(owner.pid)) return 'dead';
  if (owner.startTime !== undefined) {
    const now = processStartTime(owner.pid);
    if (now !== null && now !== owner.startTime) return 'dead'; // the pid was reused
  }
  return 'alive';
}

const digest = (text: string): string => createHash('sha256').update(text).digest('hex').slice(0, 32);

export class OrderFileLock {
  private held = false;
  /** The exact bytes this process wrote: release removes the lock only while it is still these. */
  private record = '';
  /** The dead holder whose lock was taken over by acquire(), if it was (for the operator log). */
  takenOver: LockOwner | null = null;
  private lease: ReturnType<typeof setInterval> | null = null;

  constructor(
    readonly lockFile: string,
    private readonly station: string,
  ) {}

  static forOrderFile(ordersPath: string, station: string): OrderFileLock {
    return new OrderFileLock(`${ordersPath}.lock`, station);
  }

  acquire(): void {
    const start = processStartTime(process.pid);
    const boot = bootId();
    const owner: LockOwner = {
      host: lockHostname(),
      pid: process.pid,
      since: new Date().toISOString(),
      station: this.station,
      ...(start !== null ? { startTime: start } : {}),
      ...(boot !== null ? { bootId: boot } : {}),
      nonce: randomBytes(8).toString('hex'),
      leaseMs: LEASE_REFRESH_MS,
    };
    const record = JSON.stringify(owner);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      if (createExclusive(this.lockFile, record)) return this.won(record, null);
      const text = readIfExists(this.lockFile);
      if (text === null) continue; // released in between: try again
      const holder = parseOwner(text);
      if (judge(holder) !== 'dead') throw new LockHeldError(this.lockFile, holder);
      const outcome = this.takeOver(text, record);
      if (outcome === 'won') return this.won(record, holder);
      if (outcome === 'busy') sleepSync(BUSY_WAIT_MS);
    }
    throw new LockHeldError(this.lockFile, parseOwner(readIfExists(this.lockFile)));
  }

  private won(record: string, takenOver: LockOwner | null): void {
    this.held = true;
    this.record = record;
    this.takenOver = takenOver;
    // The lease (see LEASE_REFRESH_MS). Unref'd: it never keeps the process alive; it stops by
    // itself once the file is no longer our record (released, or removed by a take-over).
    this.lease = setInterval(() => {
      // touchLease answers 'failed' rather than rejecting (tried again at the next beat).
      void touchLease(this.lockFile, record)
        .then((r) => {
          if (r === 'gone' || !this.held) this.stopLease();
        })
        .catch((err: unknown) => process.emitWarning(`lock lease refresh failed: ${(err as Error).message}`));
    }, LEASE_REFRESH_MS);
    this.lease.unref();
  }

  private stopLease(): void {
    if (this.lease !== null) clearInterval(this.lease);
    this.lease = null;
  }

  /**
   * Replace the stale record `stale` by ours, unless someone else does. The right to remove a
   * record is the takeover marker named after it, created exclusively: one process gets it. A
   * marker whose taker died is itself taken over the same way (a marker named after the marker).
   * Holding the right, the lock file is checked to be still those very bytes (it may have been
   * taken over and released since we read it) before it is removed and ours is linked in; a
   * process that finds no lock file at that instant may beat us to it, which is fine: one wins.
   */
  private takeOver(stale: string, record: string): 'won' | 'retry' | 'busy' {
    const markers: string[] = [];
    let target = stale;
    for (let depth = 0; ; depth++) {
      if (depth === MAX_MARKER_DEPTH) return 'busy';
      const marker = `${this.lockFile}.takeover.${digest(target)}`;
      markers.push(marker);
      if (createExclusive(marker, record)) break;
      const taker = readIfExists(marker);
      if (taker === null) return 'retry'; // that taker finished: look at the lock again
      // A live taker is at work: leave every marker alone (removing one would let a second in).
      if (judge(parseOwner(taker)) !== 'dead') return 'busy';
      target = taker; // its taker died: take its marker over in turn
    }
    try {
      if (readIfExists(this.lockFile) !== stale) return 'retry';
      unlinkQuietly(this.lockFile);
      return createExclusive(this.lockFile, record) ? 'won' : 'retry';
    } finally {
      // The stale record is gone for good now (its nonce never comes back), so its markers
      // guard nothing any more; a late process that recreates one finds the lock changed.
      for (const m of markers) unlinkQuietly(m);
    }
  }

  /**
   * Whether the holder named by a lock record on this host is still running, judged as acquire()
   * judges it (pid, start time, boot); a holder on another host counts as running.
   */
  static holderRunning(owner: LockOwner): boolean {
    return judge(owner) !== 'dead';
  }

  /** Who holds the lock now, if anyone (for cutover's "is there already an active?"). */
  static holder(ordersPath: string): LockOwner | null {
    try {
      return parseOwner(readIfExists(`${ordersPath}.lock`));
    } catch {
      return null;
    }
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    this.stopLease();
    let text: string | null = null;
    try {
      text = readIfExists(this.lockFile);
    } catch {
      return;
    }
    if (text === this.record) unlinkQuietly(this.lockFile);
  }
}

/** Why `nqgw cutover --take-over-from HOST` will not remove a lock (NQ611-NQ616). */
export class TakeOverRefusedError extends AppError {}

export interface ForeignLock {
  lockFile: string;
  /** null: there is no lock file, nothing to take over. */
  holder: LockOwner | null;
  /** Milliseconds since the holder last refreshed its lease (the file's mtime). */
  ageMs: number | null;
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;

/**
 * May the lock beside `ordersPath`, held by a gateway on `fromHost`, be taken over from here?
 * Throws TakeOverRefusedError saying why not: the holder is another host than the one named
 * (named in the error), this very host (the ordinary stale-lock rules apply), an older gateway
 * that keeps no lease, or its lease is fresh (it is running). Changes nothing.
 */
export function judgeForeignLock(
  ordersPath: string,
  fromHost: string,
  now: number = Date.now(),
): ForeignLock {
  const lockFile = `${ordersPath}.lock`;
  const text = readIfExists(lockFile);
  if (text === null) return { lockFile, holder: null, ageMs: null };
  const holder = parseOwner(text);
  if (holder === null) {
    throw new TakeOverRefusedError(
      'NQ611',
      `${lockFile} cannot be read as a lock record`,
      'look at it: remove it by hand only when no gateway serves this order file',
    );
  }
  const who = `${holder.host} (pid ${holder.pid}, since ${holder.since})`;
  if (holder.host !== fromHost) {
    throw new TakeOverRefusedError(
      'NQ612',
      `the lock is held by the gateway on ${who}, not on ${fromHost}`,
      `take over only from the host you know is down: --take-over-from ${holder.host} if that is the one`,
    );
  }
  if (holder.host === lockHostname()) {
    throw new TakeOverRefusedError(
      'NQ613',
      `the lock is held by a gateway on this very host (${who})`,
      'run nqgw cutover without --take-over-from: a dead holder on this host is taken over by itself',
    );
  }
  if (holder.leaseMs === undefined) {
    throw new TakeOverRefusedError(
      'NQ614',
      `the gateway on ${who} keeps no lease (an older version): whether it runs cannot be seen from here`,
      `make sure ${holder.host} is down (or its gateway stopped), then delete ${lockFile} by hand`,
    );
  }
  const ageMs = Math.max(0, leaseAgeMs(lockFile, now) ?? 0);
  if (ageMs < LEASE_STALE_MS) {
    throw new TakeOverRefusedError(
      'NQ615',
      `the gateway on ${holder.host} refreshed its lock ${seconds(ageMs)} ago: it is running (pid ${holder.pid}, since ${holder.since})`,
      `stop it first (on ${holder.host}: systemctl disable --now nqgw); its lease lapses ${seconds(LEASE_STALE_MS)} after it stops`,
    );
  }
  return { lockFile, holder, ageMs };
}

/**
 * Remove the stale lock of a gateway on `fromHost` (judged by judgeForeignLock), atomically: the
 * right to remove it is the takeover marker named after that very record, created exclusively
 * (as acquire() does for a dead holder on this host), and the record and its stale lease are
 * checked again while holding it. Returns what was removed (holder null: there was no lock).
 */
export function takeOverForeignLock(ordersPath: string, fromHost: string): ForeignLock {
  const judged = judgeForeignLock(ordersPath, fromHost);
  if (judged.holder === null) return judged;
  const text = readIfExists(judged.lockFile);
  if (text === null) return { ...judged, holder: null, ageMs: null };
  const marker = `${judged.lockFile}.takeover.${digest(text)}`;
  const me = JSON.stringify({
    host: lockHostname(),
    pid: process.pid,
    since: new Date().toISOString(),
    station: judged.holder.station,
    ...(processStartTime(process.pid) !== null ? { startTime: processStartTime(process.pid) } : {}),
    ...(bootId() !== null ? { bootId: bootId() } : {}),
  });
  if (!createMarker(marker, me)) {
    throw new TakeOverRefusedError(
      'NQ616',
      `another process is taking over ${judged.lockFile} right now (${marker})`,
      'wait a moment and look again with nqgw cutover --preflight-only',
    );
  }
  try {
    // Judged again holding the marker: the record must be the same bytes and its lease still stale.
    const again = judgeForeignLock(ordersPath, fromHost);
    if (readIfExists(judged.lockFile) !== text) {
      throw new TakeOverRefusedError('NQ616', `${judged.lockFile} changed while it was being taken over`);
    }
    unlinkQuietly(judged.lockFile);
    return again;
  } finally {
    unlinkQuietly(marker);
  }
}

/** The marker created, or (once) a marker left by a take-over that died on this host replaced. */
function createMarker(marker: string, me: string): boolean {
  if (createExclusive(marker, me)) return true;
  if (judge(parseOwner(readIfExists(marker))) !== 'dead') return false;
  unlinkQuietly(marker);
  return createExclusive(marker, me);
}
