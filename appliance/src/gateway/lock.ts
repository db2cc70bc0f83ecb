import { closeSync, openSync, readFileSync, unlinkSync, writeSync, fsyncSync } from 'node:fs';
import os from 'node:os';
import { AppError } from '../shared/index.js';

/**
 * One gateway per NQWT.DBF. The lock file sits beside the order file (not in the gateway's own
 * state directory), so two gateways on two hosts pointed at one shared interface directory - the
 * vendor's "backup gateway pointed at the same files" - still see each other. It is created with
 * O_EXCL; a lock left by a dead process on this host is taken over, one left by another host is
 * not (we cannot see its processes): the operator must confirm that host is down and remove it.
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
      holder && holder.host !== os.hostname()
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
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(file: string): LockOwner | null {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LockOwner;
  } catch {
    return null;
  }
}

export class OrderFileLock {
  private held = false;

  constructor(
    readonly lockFile: string,
    private readonly station: string,
  ) {}

  static forOrderFile(ordersPath: string, station: string): OrderFileLock {
    return new OrderFileLock(`${ordersPath}.lock`, station);
  }

  acquire(): void {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(this.lockFile, 'wx', 0o644);
        const owner: LockOwner = {
          host: os.hostname(),
          pid: process.pid,
          since: new Date().toISOString(),
          station: this.station,
        };
        writeSync(fd, JSON.stringify(owner));
        fsyncSync(fd);
        closeSync(fd);
        this.held = true;
        return;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const owner = readOwner(this.lockFile);
        const stale = owner !== null && owner.host === os.hostname() && !isAlive(owner.pid);
        if (!stale || attempt > 0) throw new LockHeldError(this.lockFile, owner);
        unlinkSync(this.lockFile);
      }
    }
  }

  /** Who holds the lock now, if anyone (for cutover's "is there already an active?"). */
  static holder(ordersPath: string): LockOwner | null {
    return readOwner(`${ordersPath}.lock`);
  }

  release(): void {
    if (!this.held) return;
    this.held = false;
    const owner = readOwner(this.lockFile);
    if (owner && owner.pid === process.pid && owner.host === os.hostname()) unlinkSync(this.lockFile);
  }
}
