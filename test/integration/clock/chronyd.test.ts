import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  compareWithChrony,
  readChronyTracking,
  sntpQuery,
  type ChronyReading,
  type SntpSample,
} from '../../../appliance/src/clock/index.js';
import { findChronyc, findChronyd, freeUdpPort, TestChronyd } from './chronyd.js';
import { SntpResponder } from './responder.js';

/**
 * Interoperability with a real chronyd. CI installs chrony (scripts/ci-deps/clock.sh); the tests
 * are skipped, saying so, only where chronyd is not installed.
 */
const chronyd = findChronyd();
const chronyc = findChronyc();
if (!chronyd) {
  console.warn('SKIPPED: chronyd is not installed (apt-get install -y chrony, see scripts/ci-deps/clock.sh)');
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | null>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown = null;
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== null) return v;
    } catch (err) {
      last = err;
    }
    await sleep(200);
  }
  throw new Error(`timed out waiting for ${what}: ${String(last)}`);
}

describe.skipIf(!chronyd)('real chronyd as a local stratum-1 time server on loopback', () => {
  let server: TestChronyd;
  let port: number;

  beforeAll(async () => {
    port = await freeUdpPort();
    server = new TestChronyd(chronyd as string, { servePort: port });
    server.start();
  });
  afterAll(async () => {
    await server.stop();
  });

  it('answers our SNTP client with a sane sample', async () => {
    const s = await until<SntpSample>(`chronyd on 127.0.0.1:${port} (log: ${server.log})`, () =>
      sntpQuery({ host: '127.0.0.1', port }, { timeoutMs: 500 }),
    );
    // Same host, same clock: the offset is the measurement's own error.
    expect(Math.abs(s.offsetMs)).toBeLessThan(5);
    expect(s.delayMs).toBeGreaterThanOrEqual(0);
    expect(s.delayMs).toBeLessThan(20);
    expect(s.stratum).toBe(1);
    expect(s.leap).toBe(0);
    expect(s.version).toBe(4);
    expect(Math.abs(s.offsetMs)).toBeLessThanOrEqual(s.errorBoundMs);
    console.info(
      `chronyd local stratum 1: offset ${s.offsetMs.toFixed(3)} ms, delay ${s.delayMs.toFixed(3)} ms, bound ±${s.errorBoundMs.toFixed(3)} ms, refid ${s.refId}`,
    );
  });

  it.skipIf(!chronyc)('its chronyc -c tracking reads as stratum 1, no offset', async () => {
    const r = await readChronyTracking({ command: chronyc as string, host: server.socket });
    expect(r.status, JSON.stringify(r)).toBe('ok');
    if (r.status !== 'ok') return;
    expect(r.tracking.stratum).toBe(1);
    expect(Math.abs(r.tracking.systemTimeMs)).toBeLessThan(1);
    expect(r.tracking.leapStatus).toBe('Normal');
  });
});

describe.skipIf(!chronyd || !chronyc)(
  'chrony as a second opinion (chronyd -x following a skewed server)',
  () => {
    const upstream = new SntpResponder({ offsetMs: 200, stratum: 1 });
    const honest = new SntpResponder({ offsetMs: 0, stratum: 1 });
    let client: TestChronyd;

    beforeAll(async () => {
      await upstream.start();
      await honest.start();
      // With -x chronyd does not touch the clock; it keeps the correction it would apply, which
      // chronyc reports as "system time": here, 200 ms slow of NTP time.
      client = new TestChronyd(chronyd as string, { upstreamPorts: [upstream.port] });
      client.start();
    });
    afterAll(async () => {
      await client.stop();
      await upstream.stop();
      await honest.stop();
    });

    it('chrony and our client agree about the same server (+200 ms, same sign)', async () => {
      const reading = await until<ChronyReading>(
        `chronyd to follow the +200 ms server (log: ${client.log})`,
        async () => {
          const r = await readChronyTracking({ command: chronyc as string, host: client.socket });
          return r.status === 'ok' && Math.abs(r.tracking.systemTimeMs - 200) < 5 ? r : null;
        },
      );
      const ours = await sntpQuery(upstream.server, { timeoutMs: 500 });
      const cmp = compareWithChrony(ours.offsetMs, reading, 20);
      expect(cmp.disagrees).toBe(false);
      expect(Math.abs(cmp.differenceMs ?? 99)).toBeLessThan(5);
      console.info(`chrony second opinion: SNTP ${ours.offsetMs.toFixed(3)} ms, ${cmp.note}`);
    });

    it('reports a disagreement when our servers and chrony see different times', async () => {
      const reading = await readChronyTracking({ command: chronyc as string, host: client.socket });
      const ours = await sntpQuery(honest.server, { timeoutMs: 500 });
      const cmp = compareWithChrony(ours.offsetMs, reading, 20);
      expect(cmp.disagrees).toBe(true);
      expect(cmp.differenceMs ?? 0).toBeLessThan(-180);
      expect(cmp.note).toContain('disagree');
    });

    it('a chronyc that cannot reach chronyd gives "unavailable", not an exception', async () => {
      const r = await readChronyTracking({ command: chronyc as string, host: `${client.dir}/nobody.sock` });
      expect(r.status).toBe('unavailable');
    });
  },
);
