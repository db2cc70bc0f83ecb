import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  judgeForeignLock,
  LEASE_STALE_MS,
  OrderFileLock,
  takeOverForeignLock,
} from '../../../appliance/src/gateway/index.js';
import { awaitStaleLease } from '../../../appliance/src/cutover/takeover.js';
import { waitUntil } from '../../helpers/process.js';

const tmp = (): string => mkdtempSync(path.join(os.tmpdir(), 'nqgw-takeover-unit-'));

function foreignLock(orders: string, host: string, ageMs: number, lease = true): void {
  const file = `${orders}.lock`;
  writeFileSync(
    file,
    JSON.stringify({
      host,
      pid: 4242,
      since: '2026-12-02T00:30:00Z',
      station: 'W888888T',
      nonce: 'n1',
      ...(lease ? { leaseMs: 2000 } : {}),
    }),
  );
  const t = new Date(Date.now() - ageMs);
  utimesSync(file, t, t);
}

afterEach(() => {
  delete process.env['NQGW_LOCK_HOSTNAME'];
});

describe('taking over the lock of a replica that is down (--take-over-from)', () => {
  it('refuses another host than the holder, naming the holder', () => {
    const orders = path.join(tmp(), 'NQWT.DBF');
    foreignLock(orders, 'gw-a', 60_000);
    expect(() => judgeForeignLock(orders, 'gw-c')).toThrow(
      expect.objectContaining({
        code: 'NQ612',
        message: expect.stringContaining('held by the gateway on gw-a'),
      }),
    );
  });

  it('refuses while the lease is fresh: "refreshed its lock N s ago: it is running"', () => {
    const orders = path.join(tmp(), 'NQWT.DBF');
    foreignLock(orders, 'gw-a', 2000);
    expect(() => takeOverForeignLock(orders, 'gw-a')).toThrow(
      /the gateway on gw-a refreshed its lock 2\.\d s ago: it is running/,
    );
    expect(readdirSync(path.dirname(orders))).toEqual(['NQWT.DBF.lock']); // untouched
  });

  it('refuses an older holder that keeps no lease, and this host\u2019s own lock', () => {
    const orders = path.join(tmp(), 'NQWT.DBF');
    foreignLock(orders, 'gw-a', 600_000, false);
    expect(() => judgeForeignLock(orders, 'gw-a')).toThrow(expect.objectContaining({ code: 'NQ614' }));
    foreignLock(orders, os.hostname(), 600_000);
    expect(() => judgeForeignLock(orders, os.hostname())).toThrow(expect.objectContaining({ code: 'NQ613' }));
  });

  it('a lapsed lease of the named host: removed, and its marker gone too', () => {
    const orders = path.join(tmp(), 'NQWT.DBF');
    foreignLock(orders, 'gw-a', LEASE_STALE_MS + 5000);
    const r = takeOverForeignLock(orders, 'gw-a');
    expect(r.holder?.host).toBe('gw-a');
    expect(r.ageMs).toBeGreaterThanOrEqual(LEASE_STALE_MS);
    expect(readdirSync(path.dirname(orders))).toEqual([]);
    expect(takeOverForeignLock(orders, 'gw-a').holder).toBeNull(); // nothing left: nothing to do
  });

  it('a take-over in progress on another host (its marker present) is not raced', () => {
    const orders = path.join(tmp(), 'NQWT.DBF');
    foreignLock(orders, 'gw-a', LEASE_STALE_MS + 5000);
    const text = readFileSync(`${orders}.lock`, 'utf8');
    const marker = `${orders}.lock.takeover.${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;
    writeFileSync(
      marker,
      JSON.stringify({ host: 'gw-c', pid: 1, since: '2026-12-02T00:00:00Z', station: 'W888888T' }),
    );
    expect(() => takeOverForeignLock(orders, 'gw-a')).toThrow(expect.objectContaining({ code: 'NQ616' }));
    expect(readFileSync(`${orders}.lock`, 'utf8')).toBe(text);
  });
});

describe('the take-over watches the lock before calling it stale (cutover/takeover.ts)', () => {
  it('stale by the clock and unchanged while watched: taken', async () => {
    const orders = path.join(tmp(), 'NQWT.DBF');
    foreignLock(orders, 'gw-a', 60_000);
    const lines: string[] = [];
    const r = await awaitStaleLease(orders, 'gw-a', { line: (l) => lines.push(l) }, 50);
    expect(r.holder?.host).toBe('gw-a');
    expect(lines.join('\n')).toMatch(/waiting for the lease of gw-a to lapse/);
  });

  it('stale by the clock but refreshed while watched (a file server whose clock lags): refused, it runs', async () => {
    const orders = path.join(tmp(), 'NQWT.DBF');
    foreignLock(orders, 'gw-a', 60_000);
    const lockFile = `${orders}.lock`;
    const watching = awaitStaleLease(orders, 'gw-a', null, 50);
    // The holder's refresh, as lockfs.touchLease does it: its own bytes rewritten in place.
    writeFileSync(lockFile, readFileSync(lockFile));
    await expect(watching).rejects.toMatchObject({
      code: 'NQ615',
      message: expect.stringMatching(/it is running/),
    });
  });
});

describe('the lease: a running gateway touches its lock', () => {
  it('acquire() names the host (NQGW_LOCK_HOSTNAME seam) and refreshes the mtime every couple of seconds', async () => {
    process.env['NQGW_LOCK_HOSTNAME'] = 'gw-test-a';
    const orders = path.join(tmp(), 'NQWT.DBF');
    const lock = OrderFileLock.forOrderFile(orders, 'W888888T');
    lock.acquire();
    try {
      expect(OrderFileLock.holder(orders)).toMatchObject({ host: 'gw-test-a', leaseMs: 2000 });
      const old = new Date(Date.now() - 60_000);
      utimesSync(lock.lockFile, old, old);
      await waitUntil(() => Date.now() - statSync(lock.lockFile).mtimeMs < 10_000, 'the lease refreshed');
      // Seen from another host: running, so not taken over.
      process.env['NQGW_LOCK_HOSTNAME'] = 'gw-test-b';
      expect(() => judgeForeignLock(orders, 'gw-test-a')).toThrow(/it is running/);
    } finally {
      lock.release();
    }
  });
});
