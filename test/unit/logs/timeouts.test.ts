import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  listSegments,
  LogService,
  ObjectStore,
  type LogSettings,
  type ShipMetrics,
} from '../../../appliance/src/logs/index.js';
import { waitUntil } from '../../helpers/process.js';
import { StallingStore } from '../../helpers/proxy.js';
import { LOG_BUCKET, readShipped, S3Lab, S3RVER_KEY } from '../../helpers/s3.js';
import { tempDir, testSettings } from './fixtures.js';

let s3: S3Lab;
const stalls: StallingStore[] = [];
beforeAll(async () => {
  s3 = await S3Lab.start();
});
afterEach(async () => {
  await Promise.all(stalls.splice(0).map((s) => s.stop()));
});
afterAll(async () => {
  await s3.stop();
});

async function stalling(mode: 'silent' | 'headers'): Promise<StallingStore> {
  const store = new StallingStore(mode);
  await store.start();
  stalls.push(store);
  return store;
}

function storeAt(endpoint: string, requestTimeoutMs: number): ObjectStore {
  return new ObjectStore({
    endpoint,
    bucket: LOG_BUCKET,
    prefix: '',
    region: 'us-east-1',
    credentials: { accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_KEY },
    requestTimeoutMs,
  });
}

/** How long a promise takes to settle, and how (it must settle: vitest's timeout is the backstop). */
async function timed(
  p: Promise<unknown>,
): Promise<{ ms: number; error: (Error & { code?: string }) | null }> {
  const t0 = performance.now();
  try {
    await p;
    return { ms: performance.now() - t0, error: null };
  } catch (err) {
    return { ms: performance.now() - t0, error: err as Error & { code?: string } };
  }
}

const body = Buffer.from('x');

describe('every request to the store has a deadline', () => {
  it('a store that accepts and never answers: HEAD, PUT, GET and LIST each fail at the request timeout (NQ820)', async () => {
    const stall = await stalling('silent');
    const store = storeAt(stall.endpoint, 600);
    try {
      const ops: [string, () => Promise<unknown>][] = [
        ['HEAD', () => store.head('k')],
        ['PUT', () => store.put('k', body, '', '', 'text/plain')],
        ['GET', () => store.get('k')],
        ['LIST', () => store.list('p/')],
      ];
      for (const [name, op] of ops) {
        const r = await timed(op());
        expect(r.error?.code, name).toBe('NQ820');
        expect(r.error?.name).toBe('StoreTimeoutError');
        expect(r.ms, name).toBeGreaterThanOrEqual(550);
        expect(r.ms, name).toBeLessThan(2500);
      }
      expect(stall.requests).toBeGreaterThanOrEqual(4);
      // The aborted requests' sockets are closed, not left hanging on the store.
      await waitUntil(() => stall.openConnections === 0, 'sockets closed', 5000);
    } finally {
      store.destroy();
    }
  });

  it('a store that sends the headers and stalls the body: PUT and GET fail at the request timeout', async () => {
    const stall = await stalling('headers');
    const store = storeAt(stall.endpoint, 700);
    try {
      for (const [name, op] of [
        ['PUT', () => store.put('k', body, '', '', 'text/plain')],
        ['GET', () => store.get('k')],
      ] as const) {
        const r = await timed(op());
        expect(r.error?.code, name).toBe('NQ820');
        expect(r.ms, name).toBeGreaterThanOrEqual(650);
        expect(r.ms, name).toBeLessThan(2500);
      }
      expect(await store.head('k')).toBeNull();
    } finally {
      store.destroy();
    }
  });

  it('abortAll cuts a running request at once (NQ821), and a deadline bounds requests below their timeout', async () => {
    const stall = await stalling('silent');
    const store = storeAt(stall.endpoint, 30_000);
    try {
      const pending = timed(store.head('k'));
      await waitUntil(() => store.requestsInFlight === 1 && stall.requests === 1, 'request sent', 5000);
      store.abortAll();
      const r = await pending;
      expect(r.error?.code).toBe('NQ821');
      expect(r.ms).toBeLessThan(1000);

      store.setDeadline(Date.now() + 400);
      const bounded = await timed(store.head('k'));
      expect(bounded.error?.code).toBe('NQ820');
      expect(bounded.ms).toBeLessThan(1500);
      // Past the deadline nothing is even sent.
      const sent = stall.requests;
      const late = await timed(store.head('k'));
      expect(late.error?.code).toBe('NQ821');
      expect(stall.requests).toBe(sent);
    } finally {
      store.destroy();
    }
  });
});

function write(service: LogService, n: number, tag: string): void {
  for (let i = 0; i < n; i++) service.log({ time: Date.now(), level: 'info', text: `${tag} 第 ${i} 行` });
}

function spooled(dir: string): string[] {
  return readdirSync(path.join(dir, 'spool')).filter((n) => n.endsWith('.jsonl.gz'));
}

function localLines(dir: string): string[] {
  return listSegments(dir).flatMap((s) =>
    readFileSync(s.file, 'utf8')
      .split('\n')
      .filter((l) => l.length > 0),
  );
}

describe.each(['silent', 'headers'] as const)('stop against a store that stalls (%s)', (mode) => {
  it('returns within flush_timeout, keeps what was not shipped in the spool, and the next start ships it all once', async () => {
    const stall = await stalling(mode);
    const dir = tempDir();
    const base = testSettings(dir, s3, { host: `h-stall-${mode}` });
    // A request timeout far past the flush timeout: only the stop's own deadline can end it.
    const stalled: LogSettings = {
      ...base,
      store: { ...base.store!, endpoint: stall.endpoint, requestTimeoutMs: 60_000 },
    };
    const first = new LogService({ settings: stalled });
    first.start();
    write(first, 200, mode);
    await waitUntil(() => stall.requests > 0, 'the shipper reached the store', 5000);
    const r = await timed(first.stop(1500));
    expect(r.error).toBeNull();
    expect(r.ms).toBeLessThan(1500 + 1000);
    expect(first.metrics().objectsShipped).toBe(0);
    const left = spooled(dir);
    expect(left.length).toBeGreaterThan(1);

    const second = new LogService({ settings: base });
    second.start();
    expect(await second.stop()).toBe(true);
    const { lines } = await readShipped(s3, `nqgw/W888888T/h-stall-${mode}/`);
    expect(lines).toHaveLength(200);
    expect(lines).toEqual(localLines(dir));
    expect(spooled(dir)).toEqual([]);
  });
});

describe('lastError after recovery', () => {
  it('is cleared once a segment ships again: metrics and ship-status.json show no stale error; the outage and the recovery are each said once', async () => {
    const dir = tempDir();
    const events: string[] = [];
    const service = new LogService({
      settings: testSettings(dir, s3, { host: 'h-recover', segmentMaxBytes: 1024 }),
      onEvent: (level, text, code) => events.push(`${level} ${code} ${text}`),
    });
    const status = (): ShipMetrics | null => {
      try {
        return JSON.parse(readFileSync(path.join(dir, 'ship-status.json'), 'utf8')) as ShipMetrics;
      } catch {
        return null;
      }
    };
    await s3.stopStore();
    let restarted = false;
    try {
      service.start();
      write(service, 50, 'down');
      await waitUntil(() => service.metrics().failures >= 3, 'failures while the store is away', 10_000);
      expect(service.metrics().lastError).toMatch(/\S/);
      await waitUntil(() => status()?.lastError, 'ship-status shows the error', 5000);
      await s3.startStore();
      restarted = true;
      await waitUntil(() => service.metrics().spoolSegments === 0, 'spool drained', 15_000);
      const m = service.metrics();
      expect(m.lastError).toBeNull();
      expect(m.objectsShipped).toBeGreaterThan(0);
      expect(m.lastFailureAt).toBeGreaterThan(0);
      await waitUntil(
        () => status()?.lastError === null && (status()?.objectsShipped ?? 0) > 0,
        'status clear',
        5000,
      );
      expect(events.filter((e) => e.startsWith('warn NQ822'))).toHaveLength(1);
      expect(events.filter((e) => e.startsWith('info NQ823'))).toHaveLength(1);
    } finally {
      if (!restarted) await s3.startStore();
      await service.stop();
    }
    expect(service.metrics().lastError).toBeNull();
  });
});
