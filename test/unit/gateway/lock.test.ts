import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LockHeldError, OrderFileLock, type LockOwner } from '../../../appliance/src/gateway/lock.js';
import { bootId, processStartTime } from '../../../appliance/src/gateway/lockfs.js';

const children: ChildProcess[] = [];
const locks: OrderFileLock[] = [];
afterEach(() => {
  for (const l of locks.splice(0)) l.release();
  for (const c of children.splice(0)) c.kill('SIGKILL');
});

function orderFile(): string {
  return path.join(mkdtempSync(path.join(os.tmpdir(), 'nqgw-lock-')), 'NQWT.DBF');
}

function writeLock(orders: string, owner: Partial<LockOwner>): void {
  const record: LockOwner = {
    host: os.hostname(),
    pid: 1,
    since: '2026-11-20T01:00:00.000Z',
    station: 'W888888T',
    ...owner,
  };
  writeFileSync(`${orders}.lock`, JSON.stringify(record));
}

function lockOf(orders: string): OrderFileLock {
  const lock = OrderFileLock.forOrderFile(orders, 'W888888T');
  locks.push(lock);
  return lock;
}

const holderPid = (orders: string): number =>
  (JSON.parse(readFileSync(`${orders}.lock`, 'utf8')) as LockOwner).pid;

/** A live process that is not a gateway (stands for an unrelated process that got the pid). */
async function unrelatedProcess(): Promise<number> {
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  children.push(child);
  await new Promise((r) => child.once('spawn', r));
  return child.pid!;
}

describe('order-file lock: who is dead', () => {
  it('sits beside NQWT.DBF and records pid, start time and boot', () => {
    const orders = orderFile();
    lockOf(orders).acquire();
    const owner = JSON.parse(readFileSync(`${orders}.lock`, 'utf8')) as LockOwner;
    expect(owner).toMatchObject({ host: os.hostname(), pid: process.pid, station: 'W888888T' });
    expect(owner.startTime).toBe(processStartTime(process.pid));
    expect(owner.bootId).toBe(bootId());
    expect(readdirSync(path.dirname(orders))).toEqual(['NQWT.DBF.lock']); // no temp files left
  });

  it('a lock holding OUR pid (left by an earlier process in a fresh pid namespace) is stale', () => {
    const orders = orderFile();
    writeLock(orders, { pid: process.pid }); // as older versions wrote it: pid only
    const lock = lockOf(orders);
    lock.acquire();
    expect(lock.takenOver).toMatchObject({ pid: process.pid });
    expect(holderPid(orders)).toBe(process.pid);

    const again = orderFile();
    writeLock(again, { pid: process.pid, startTime: processStartTime(process.pid)! - 1, bootId: bootId()! });
    lockOf(again).acquire();
    expect((JSON.parse(readFileSync(`${again}.lock`, 'utf8')) as LockOwner).startTime).toBe(
      processStartTime(process.pid),
    );
  });

  it('a pid now used by an unrelated process is stale; the same pid and start time is held', async () => {
    const pid = await unrelatedProcess();
    const started = processStartTime(pid)!;
    const reused = orderFile();
    writeLock(reused, { pid, startTime: started - 500, bootId: bootId()! });
    expect(OrderFileLock.holderRunning(OrderFileLock.holder(reused)!)).toBe(false);
    lockOf(reused).acquire();
    expect(holderPid(reused)).toBe(process.pid);

    const held = orderFile();
    writeLock(held, { pid, startTime: started, bootId: bootId()! });
    expect(OrderFileLock.holderRunning(OrderFileLock.holder(held)!)).toBe(true);
    expect(() => lockOf(held).acquire()).toThrow(LockHeldError);
    expect(holderPid(held)).toBe(pid);
  });

  it('a lock from an earlier boot is stale even if its pid is alive now', async () => {
    const pid = await unrelatedProcess();
    const orders = orderFile();
    writeLock(orders, { pid, startTime: processStartTime(pid)!, bootId: 'an-earlier-boot' });
    lockOf(orders).acquire();
    expect(holderPid(orders)).toBe(process.pid);
  });

  it('keeps its messages: a live holder here, a holder on another host (never taken over), a lock it cannot read', async () => {
    const pid = await unrelatedProcess();
    const orders = orderFile();
    writeLock(orders, { pid });
    const here = (() => {
      try {
        lockOf(orders).acquire();
      } catch (err) {
        return err as LockHeldError;
      }
      throw new Error('acquired a held lock');
    })();
    expect(here.code).toBe('NQ705');
    expect(here.message).toBe(
      `another gateway serves this order file: ${os.hostname()} pid ${pid} since 2026-11-20T01:00:00.000Z (${orders}.lock)`,
    );
    expect(here.hint).toBe(
      'Stop the other gateway first (nqgw stop), or remove the lock if it is certainly not running.',
    );

    writeLock(orders, { host: 'prod-gw-1', pid: 2 ** 22 + 12345 });
    expect(() => lockOf(orders).acquire()).toThrow(
      expect.objectContaining({
        hint: `Make sure the gateway on prod-gw-1 is stopped, then delete ${orders}.lock.`,
      }),
    );

    writeFileSync(`${orders}.lock`, '');
    expect(() => lockOf(orders).acquire()).toThrow(`the order file is locked by ${orders}.lock`);
  });

  it('two locks in one process: the second is refused; release removes only its own record', () => {
    const orders = orderFile();
    const first = lockOf(orders);
    first.acquire();
    expect(() => lockOf(orders).acquire()).toThrow(LockHeldError);
    // Someone replaced the lock behind our back: release must not delete theirs.
    writeLock(orders, { host: 'prod-gw-1' });
    first.release();
    expect(existsSync(`${orders}.lock`)).toBe(true);
  });

  it('a takeover marker left by a taker that died is taken over in turn', () => {
    const orders = orderFile();
    writeLock(orders, { pid: 2 ** 22 + 12345 });
    const first = lockOf(orders);
    first.acquire();
    first.release();
    writeLock(orders, { pid: 2 ** 22 + 12346 });
    const stale = readFileSync(`${orders}.lock`, 'utf8');
    // A taker (dead now) had claimed the right to remove this record, then died.
    const marker = `${orders}.lock.takeover.${createHash('sha256').update(stale).digest('hex').slice(0, 32)}`;
    writeFileSync(
      marker,
      JSON.stringify({ host: os.hostname(), pid: 2 ** 22 + 12347, since: '', station: '' }),
    );
    lockOf(orders).acquire();
    expect(holderPid(orders)).toBe(process.pid);
    expect(readdirSync(path.dirname(orders)).sort()).toEqual(['NQWT.DBF.lock']);
  });
});
