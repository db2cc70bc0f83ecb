import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ClockWatchdog,
  parseClockSettings,
  type ClockChange,
  type ClockState,
} from '../../../appliance/src/clock/index.js';
import { SntpResponder } from './responder.js';

/**
 * The watchdog end to end: real SNTP over loopback UDP against three scripted servers whose
 * clocks move together, as a local clock drifting away from network time would look.
 */
const servers = [new SntpResponder(), new SntpResponder(), new SntpResponder()];

beforeAll(async () => {
  for (const s of servers) await s.start();
});
afterAll(async () => {
  for (const s of servers) await s.stop();
});

function setAll(behaviour: Parameters<SntpResponder['set']>[0]): void {
  for (const s of servers) s.set(behaviour);
}

function watchdog(extra: Record<string, string> = {}): ClockWatchdog {
  return new ClockWatchdog({
    settings: parseClockSettings({
      servers: servers.map((s) => `127.0.0.1:${s.port}`).join(','),
      timeout_ms: '300',
      chrony: 'off',
      ...extra,
    }),
  });
}

describe('watchdog against scripted time servers', () => {
  it('follows a clock drifting 40 → 60 → 99 → 101 → 250 → 101 → 99 → 60 → 40 ms, within 2 ms each round', async () => {
    setAll({ mode: 'normal' });
    const w = watchdog();
    const changes: ClockChange[] = [];
    w.on('change', (c) => changes.push(c));
    const path = [40, 60, 99, 101, 250, 101, 99, 60, 40];
    const seen: { injected: number; measured: number; bound: number; state: ClockState }[] = [];
    for (const injected of path) {
      setAll({ offsetMs: injected });
      const round = await w.measureNow();
      const measured = round.measurement.offsetMs as number;
      seen.push({ injected, measured, bound: round.measurement.errorBoundMs as number, state: round.state });
      expect(round.measurement.answered).toBe(3);
      expect(Math.abs(measured - injected)).toBeLessThan(2);
    }
    console.info(
      'watchdog rounds:\n' +
        seen
          .map(
            (s) =>
              `  injected ${String(s.injected).padStart(3)} ms -> ${s.measured.toFixed(3)} ms ±${s.bound.toFixed(3)} (${s.state})`,
          )
          .join('\n'),
    );
    expect(seen.map((s) => s.state)).toEqual([
      'ok',
      'warn',
      'warn',
      'alarm',
      'alarm',
      'alarm',
      'warn',
      'warn',
      'ok',
    ]);
    expect(changes.map((c) => `${c.from}->${c.to}`)).toEqual([
      'unknown->ok',
      'ok->warn',
      'warn->alarm',
      'alarm->warn',
      'warn->ok',
    ]);
    expect(changes[2]?.offsetMs).toBeGreaterThan(100);
    expect(changes[2]?.servers).toHaveLength(3);
    await w.stop();
  });

  it("all servers down: 'unknown', each failure reported with its code", async () => {
    setAll({ offsetMs: 10, mode: 'normal' });
    const w = watchdog();
    await w.measureNow();
    expect(w.state).toBe('ok');
    servers[0]?.set({ mode: 'silent' });
    servers[1]?.set({ mode: 'kiss', kissCode: 'RATE' });
    servers[2]?.set({ mode: 'unsynchronised' });
    const changes: ClockChange[] = [];
    w.on('change', (c) => changes.push(c));
    const round = await w.measureNow();
    expect(round.state).toBe('unknown');
    expect(round.measurement.offsetMs).toBeNull();
    expect(round.measurement.servers.map((s) => (s.ok ? 'ok' : s.error.code))).toEqual([
      'CLOCK_TIMEOUT',
      'CLOCK_KISS',
      'CLOCK_UNSYNCHRONISED',
    ]);
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ from: 'ok', to: 'unknown', offsetMs: null, holdOrders: false });
    await w.stop();
  });

  it('one bad server of three does not move the figure', async () => {
    setAll({ mode: 'normal', offsetMs: 20 });
    servers[1]?.set({ offsetMs: 5000 });
    const w = watchdog();
    const round = await w.measureNow();
    expect(round.state).toBe('ok');
    expect(Math.abs((round.measurement.offsetMs as number) - 20)).toBeLessThan(2);
    expect(round.measurement.spreadMs).toBeGreaterThan(4900);
    await w.stop();
  });

  it('runs on its own once started, and stops cleanly mid-query', async () => {
    setAll({ mode: 'normal', offsetMs: 0 });
    const w = watchdog({ interval_s: '1' });
    const states: ClockState[] = [];
    w.on('measurement', (r) => states.push(r.state));
    w.start();
    await new Promise((r) => setTimeout(r, 1300));
    expect(states).toEqual(['ok', 'ok']);
    setAll({ mode: 'silent' });
    await new Promise((r) => setTimeout(r, 800)); // the third round is waiting on silent servers
    const before = states.length;
    await w.stop();
    expect(states.length).toBe(before);
    expect(w.running).toBe(false);
  });
});

describe('hold policy: orders held in alarm and released after, nothing lost', () => {
  /**
   * A stand-in for the gateway's order pump, doing what the engine is asked to do: before
   * sending, look at holdOrders; when held, leave the order where it is (in NQWT.DBF) and send it
   * on the 'change' that lifts the hold.
   */
  class FakePump {
    readonly waiting: string[] = [];
    readonly sent: string[] = [];
    constructor(private readonly clock: ClockWatchdog) {
      clock.on('change', (c) => {
        if (!c.holdOrders) this.drain();
      });
    }
    submit(id: string): void {
      this.waiting.push(id);
      this.drain();
    }
    drain(): void {
      while (!this.clock.holdOrders && this.waiting.length > 0)
        this.sent.push(this.waiting.shift() as string);
    }
  }

  it('holds at 101 ms, releases at 60 ms, every order sent once and in order', async () => {
    setAll({ mode: 'normal', offsetMs: 40 });
    const w = watchdog({ policy: 'hold' });
    const pump = new FakePump(w);
    await w.measureNow();
    pump.submit('0000000001');
    expect(pump.sent).toEqual(['0000000001']);

    setAll({ offsetMs: 101 });
    await w.measureNow();
    expect(w.state).toBe('alarm');
    expect(w.holdOrders).toBe(true);
    pump.submit('0000000002');
    pump.submit('0000000003');
    expect(pump.sent).toEqual(['0000000001']);
    expect(pump.waiting).toEqual(['0000000002', '0000000003']);

    setAll({ offsetMs: 250 });
    await w.measureNow();
    expect(w.holdOrders).toBe(true);

    setAll({ offsetMs: 60 });
    await w.measureNow();
    expect(w.state).toBe('warn');
    expect(w.holdOrders).toBe(false);
    expect(pump.sent).toEqual(['0000000001', '0000000002', '0000000003']);
    expect(pump.waiting).toEqual([]);
    await w.stop();
  });

  it("default hold policy does not hold on 'unknown' (servers unreachable)", async () => {
    setAll({ mode: 'normal', offsetMs: 0 });
    const w = watchdog({ policy: 'hold' });
    const pump = new FakePump(w);
    await w.measureNow();
    setAll({ mode: 'silent' });
    await w.measureNow();
    expect(w.state).toBe('unknown');
    pump.submit('0000000009');
    expect(pump.sent).toEqual(['0000000009']);
    await w.stop();
  });
});
