import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import {
  SntpBadModeError,
  SntpBadStratumError,
  SntpKissOfDeathError,
  SntpMalformedError,
  SntpNetworkError,
  SntpOriginateMismatchError,
  SntpTimeoutError,
  SntpUnsynchronisedError,
  SntpAbortedError,
  sntpQuery,
  type SntpSample,
} from '../../../appliance/src/clock/index.js';
import { SntpResponder } from './responder.js';

const responder = new SntpResponder();
beforeAll(async () => {
  await responder.start();
});
afterAll(async () => {
  await responder.stop();
});
afterEach(() => {
  responder.set({
    mode: 'normal',
    offsetMs: 0,
    asymmetryMs: 0,
    turnaroundMs: 0,
    rootDelayMs: 0,
    rootDispersionMs: 0,
  });
});

/** Best (lowest delay) of a few queries, as NTP's clock filter does. */
async function best(n = 3, timeoutMs = 500): Promise<SntpSample> {
  const samples: SntpSample[] = [];
  for (let i = 0; i < n; i++) samples.push(await sntpQuery(responder.server, { timeoutMs }));
  return samples.reduce((a, b) => (b.delayMs < a.delayMs ? b : a));
}

describe('SNTP query against the scripted responder: accuracy', () => {
  const accuracy: string[] = [];
  afterAll(() => {
    // The figures quoted in docs/clock.md and in the hand-over note.
    console.info(`measured minus injected offset:\n  ${accuracy.join('\n  ')}`);
  });

  for (const injected of [40, 60, 99, 101, 250, -40, -101, -250]) {
    it(`measures an injected offset of ${injected} ms within 2 ms, inside its error bound`, async () => {
      responder.set({ offsetMs: injected });
      const s = await best();
      const error = s.offsetMs - injected;
      accuracy.push(
        `${String(injected).padStart(5)} ms: measured ${s.offsetMs.toFixed(3)} ms (error ${error >= 0 ? '+' : ''}${error.toFixed(3)} ms, delay ${s.delayMs.toFixed(3)} ms, bound ±${s.errorBoundMs.toFixed(3)} ms)`,
      );
      expect(Math.abs(error)).toBeLessThan(2);
      expect(Math.abs(error)).toBeLessThanOrEqual(s.errorBoundMs);
      expect(s.stratum).toBe(2);
      expect(s.refId).toBe('192.0.2.1');
      expect(s.delayMs).toBeGreaterThanOrEqual(0);
      expect(s.delayMs).toBeLessThan(20);
    });
  }

  it('excludes the server turnaround from the delay and keeps the offset', async () => {
    responder.set({ offsetMs: 60, turnaroundMs: 30 });
    const s = await best(2);
    expect(s.t3 - s.t2).toBeGreaterThanOrEqual(29);
    expect(s.delayMs).toBeLessThan(10);
    expect(Math.abs(s.offsetMs - 60)).toBeLessThan(2);
  });

  it('keeps the true offset inside θ ± bound when the path is asymmetric', async () => {
    // 40 ms extra on the way in only: θ is biased by about +20 ms, and the bound says so.
    responder.set({ offsetMs: 60, asymmetryMs: 40 });
    const s = await sntpQuery(responder.server, { timeoutMs: 1000 });
    accuracy.push(
      `   60 ms with 40 ms one-way asymmetry: measured ${s.offsetMs.toFixed(3)} ms, delay ${s.delayMs.toFixed(3)} ms, bound ±${s.errorBoundMs.toFixed(3)} ms`,
    );
    expect(s.offsetMs - 60).toBeGreaterThan(15);
    expect(s.delayMs).toBeGreaterThanOrEqual(39);
    expect(Math.abs(s.offsetMs - 60)).toBeLessThanOrEqual(s.errorBoundMs);
  });

  it("adds the server's root delay and dispersion to the error bound", async () => {
    responder.set({ offsetMs: 0, rootDelayMs: 20, rootDispersionMs: 5 });
    const s = await sntpQuery(responder.server, { timeoutMs: 500 });
    expect(s.rootDelayMs).toBeCloseTo(20, 1);
    expect(s.rootDispersionMs).toBeCloseTo(5, 1);
    // δ/2 + 10 + 5 + 2^-20 s + 1 ms
    expect(s.errorBoundMs).toBeGreaterThanOrEqual(16);
    expect(s.errorBoundMs).toBeLessThan(16 + s.delayMs / 2 + 0.01);
  });

  it('measures our own clock when it is the one that is off (injected now)', async () => {
    responder.set({ offsetMs: 0 });
    const s = await sntpQuery(responder.server, { timeoutMs: 500, now: () => Date.now() + 120 });
    // Our clock is 120 ms ahead: the server is 120 ms behind us.
    expect(Math.abs(s.offsetMs + 120)).toBeLessThan(2);
  });
});

describe('SNTP query: each bad reply is rejected with its own error', () => {
  it('wrong originate timestamp: ignored, then CLOCK_BAD_ORIGINATE at the timeout', async () => {
    responder.set({ mode: 'wrong-originate', offsetMs: 60 });
    const err = await sntpQuery(responder.server, { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SntpOriginateMismatchError);
    expect((err as SntpOriginateMismatchError).code).toBe('CLOCK_BAD_ORIGINATE');
    expect((err as SntpOriginateMismatchError).bogusReplies).toBe(1);
  });

  it('a stale reply followed by the real one: the real one is used', async () => {
    responder.set({ mode: 'stale-then-good', offsetMs: 99 });
    const s = await sntpQuery(responder.server, { timeoutMs: 500 });
    // The stale reply (originate not ours) is skipped, not fatal: the query succeeds on the real one.
    expect(Math.abs(s.offsetMs - 99)).toBeLessThanOrEqual(s.errorBoundMs);
  });

  it('leap indicator 3 (unsynchronised): CLOCK_UNSYNCHRONISED', async () => {
    responder.set({ mode: 'unsynchronised' });
    const err = await sntpQuery(responder.server, { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SntpUnsynchronisedError);
    expect((err as SntpUnsynchronisedError).code).toBe('CLOCK_UNSYNCHRONISED');
  });

  it("stratum 0 kiss-o'-death RATE: CLOCK_KISS naming the kiss code", async () => {
    responder.set({ mode: 'kiss', kissCode: 'RATE' });
    const err = await sntpQuery(responder.server, { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SntpKissOfDeathError);
    expect((err as SntpKissOfDeathError).code).toBe('CLOCK_KISS');
    expect((err as SntpKissOfDeathError).kissCode).toBe('RATE');
    expect((err as SntpKissOfDeathError).message).toContain('RATE');
    expect((err as SntpKissOfDeathError).hint).toContain('interval_s');
  });

  it("kiss-o'-death DENY", async () => {
    responder.set({ mode: 'kiss', kissCode: 'DENY' });
    const err = await sntpQuery(responder.server, { timeoutMs: 300 }).catch((e: unknown) => e);
    expect((err as SntpKissOfDeathError).kissCode).toBe('DENY');
  });

  it('wrong mode (5, broadcast): CLOCK_BAD_MODE', async () => {
    responder.set({ mode: 'wrong-mode' });
    const err = await sntpQuery(responder.server, { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SntpBadModeError);
    expect((err as SntpBadModeError).code).toBe('CLOCK_BAD_MODE');
    expect((err as SntpBadModeError).mode).toBe(5);
  });

  it('stratum 16: CLOCK_BAD_STRATUM', async () => {
    responder.set({ mode: 'stratum16' });
    const err = await sntpQuery(responder.server, { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SntpBadStratumError);
    expect((err as SntpBadStratumError).stratum).toBe(16);
  });

  it('a short packet: CLOCK_MALFORMED', async () => {
    responder.set({ mode: 'short' });
    const err = await sntpQuery(responder.server, { timeoutMs: 300 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SntpMalformedError);
    expect((err as SntpMalformedError).code).toBe('CLOCK_MALFORMED');
  });

  it('no answer: CLOCK_TIMEOUT after timeout_ms', async () => {
    responder.set({ mode: 'silent' });
    const started = Date.now();
    const err = await sntpQuery(responder.server, { timeoutMs: 250 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SntpTimeoutError);
    expect((err as SntpTimeoutError).code).toBe('CLOCK_TIMEOUT');
    expect((err as SntpTimeoutError).server).toBe(`127.0.0.1:${responder.port}`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
  });

  it('a closed port: CLOCK_NETWORK (ICMP port unreachable) or CLOCK_TIMEOUT, never a crash', async () => {
    const probe = dgram.createSocket('udp4');
    await new Promise<void>((r) => probe.bind(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((r) => probe.close(() => r()));
    const err = await sntpQuery({ host: '127.0.0.1', port }, { timeoutMs: 300 }).catch((e: unknown) => e);
    expect([SntpNetworkError, SntpTimeoutError].some((c) => err instanceof c)).toBe(true);
  });

  it('an unresolvable name: CLOCK_NETWORK', async () => {
    const err = await sntpQuery({ host: 'no-such-host.invalid', port: 123 }, { timeoutMs: 300 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SntpNetworkError);
  });

  it('cancelled through its signal: CLOCK_ABORTED, promptly', async () => {
    responder.set({ mode: 'silent' });
    const ac = new AbortController();
    const started = Date.now();
    setTimeout(() => ac.abort(), 50);
    const err = await sntpQuery(responder.server, { timeoutMs: 5000, signal: ac.signal }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SntpAbortedError);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
