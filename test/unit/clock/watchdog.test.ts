import { afterEach, describe, expect, it } from 'vitest';
import {
  ClockWatchdog,
  describeChange,
  holdFor,
  parseClockSettings,
  type ClockChange,
  type ClockSettings,
  type Measurement,
  type Timers,
} from '../../../appliance/src/clock/index.js';
import { measurement } from './helpers.js';

/** Timers the test fires by hand. */
class ManualTimers implements Timers {
  pending: { fn: () => void; ms: number }[] = [];
  setTimeout(fn: () => void, ms: number): unknown {
    const entry = { fn, ms };
    this.pending.push(entry);
    return entry;
  }
  clearTimeout(handle: unknown): void {
    this.pending = this.pending.filter((p) => p !== handle);
  }
  fire(): void {
    const next = this.pending.shift();
    if (!next) throw new Error('no timer pending');
    next.fn();
  }
}

function scripted(offsets: (number | null)[]): (signal: AbortSignal) => Promise<Measurement> {
  let i = 0;
  return async () => {
    const o = offsets[Math.min(i, offsets.length - 1)];
    i += 1;
    return measurement(o === undefined ? null : o, i);
  };
}

function settings(extra: Record<string, string> = {}): ClockSettings {
  return parseClockSettings({ servers: '10.0.0.1', chrony: 'off', ...extra });
}

const watchdogs: ClockWatchdog[] = [];
afterEach(async () => {
  await Promise.all(watchdogs.splice(0).map((w) => w.stop()));
});

function make(
  offsets: (number | null)[],
  extra: Record<string, string> = {},
  timers?: Timers,
): ClockWatchdog {
  const w = new ClockWatchdog({ settings: settings(extra), measure: scripted(offsets), timers });
  watchdogs.push(w);
  return w;
}

describe('ClockWatchdog state machine', () => {
  it("starts 'unknown' with no measurement and holds nothing", () => {
    const w = make([0]);
    expect(w.state).toBe('unknown');
    expect(w.last).toBeNull();
    expect(w.holdOrders).toBe(false);
  });

  it('walks a drifting clock 40 → 60 → 101 → 60 → 40 ms: each threshold crossed both ways', async () => {
    const w = make([40, 60, 101, 60, 40]);
    const changes: ClockChange[] = [];
    const rounds: string[] = [];
    w.on('change', (c) => changes.push(c));
    w.on('measurement', (r) => rounds.push(r.state));
    for (let i = 0; i < 5; i++) await w.measureNow();
    expect(rounds).toEqual(['ok', 'warn', 'alarm', 'warn', 'ok']);
    expect(changes.map((c) => `${c.from}->${c.to}`)).toEqual([
      'unknown->ok',
      'ok->warn',
      'warn->alarm',
      'alarm->warn',
      'warn->ok',
    ]);
    expect(changes[2]).toMatchObject({ offsetMs: 101, errorBoundMs: 1, holdOrders: false });
    expect(changes[2]?.servers[0]?.server).toBe('10.0.0.1:123');
    expect(w.last?.offsetMs).toBe(40);
  });

  it('emits no change while the state holds', async () => {
    const w = make([60, 70, 80]);
    let changes = 0;
    w.on('change', () => (changes += 1));
    for (let i = 0; i < 3; i++) await w.measureNow();
    expect(changes).toBe(1);
    expect(w.state).toBe('warn');
  });

  it('the same for a clock running ahead (negative offsets)', async () => {
    const w = make([-40, -60, -101, -60, -40]);
    const states: string[] = [];
    w.on('measurement', (r) => states.push(r.state));
    for (let i = 0; i < 5; i++) await w.measureNow();
    expect(states).toEqual(['ok', 'warn', 'alarm', 'warn', 'ok']);
  });

  it("goes 'unknown' when no server answers, and back", async () => {
    const w = make([20, null, 20]);
    const changes: string[] = [];
    w.on('change', (c) => changes.push(`${c.from}->${c.to}`));
    for (let i = 0; i < 3; i++) await w.measureNow();
    expect(changes).toEqual(['unknown->ok', 'ok->unknown', 'unknown->ok']);
  });

  it("counts a measure function that throws as 'unknown'", async () => {
    const w = new ClockWatchdog({
      settings: settings(),
      measure: async () => {
        throw new Error('boom');
      },
    });
    watchdogs.push(w);
    const round = await w.measureNow();
    expect(round.state).toBe('unknown');
  });

  it('joins a round already in flight instead of starting a second', async () => {
    let calls = 0;
    const w = new ClockWatchdog({
      settings: settings(),
      measure: async () => {
        calls += 1;
        await new Promise((r) => setTimeout(r, 20));
        return measurement(10);
      },
    });
    watchdogs.push(w);
    await Promise.all([w.measureNow(), w.measureNow()]);
    expect(calls).toBe(1);
  });
});

describe('hold policy', () => {
  it('policy = alert never holds', async () => {
    const w = make([250, null]);
    await w.measureNow();
    expect(w.state).toBe('alarm');
    expect(w.holdOrders).toBe(false);
  });

  it("policy = hold holds in 'alarm' only; 'warn' and 'unknown' do not hold by default", async () => {
    const w = make([40, 60, 101, null, 60, 40], { policy: 'hold' });
    const holds: boolean[] = [];
    w.on('measurement', () => holds.push(w.holdOrders));
    for (let i = 0; i < 6; i++) await w.measureNow();
    expect(holds).toEqual([false, false, true, false, false, false]);
  });

  it("hold_on_unknown = true holds in 'unknown' too, from start-up until a figure arrives", async () => {
    const w = make([null, 20], { policy: 'hold', hold_on_unknown: 'true' });
    expect(w.holdOrders).toBe(true);
    await w.measureNow();
    expect(w.holdOrders).toBe(true);
    await w.measureNow();
    expect(w.holdOrders).toBe(false);
  });

  it('the change event carries the hold, and says it in words', async () => {
    const w = make([101, 40], { policy: 'hold' });
    const changes: ClockChange[] = [];
    w.on('change', (c) => changes.push(c));
    await w.measureNow();
    await w.measureNow();
    expect(changes.map((c) => c.holdOrders)).toEqual([true, false]);
    expect(describeChange(changes[0] as ClockChange)).toBe(
      'clock unknown -> alarm: offset +101.000 ms ± 1.000 ms; new orders are held',
    );
  });

  it('holdFor is the rule on its own', () => {
    expect(holdFor('alarm', { policy: 'hold', holdOnUnknown: false })).toBe(true);
    expect(holdFor('warn', { policy: 'hold', holdOnUnknown: true })).toBe(false);
    expect(holdFor('unknown', { policy: 'hold', holdOnUnknown: false })).toBe(false);
    expect(holdFor('alarm', { policy: 'alert', holdOnUnknown: true })).toBe(false);
  });
});

describe('start and stop', () => {
  it('measures at start, then once per interval, until stopped', async () => {
    const timers = new ManualTimers();
    const w = make([10, 60, 120], { interval_s: '64' }, timers);
    const states: string[] = [];
    w.on('measurement', (r) => states.push(r.state));
    w.start();
    expect(w.running).toBe(true);
    await until(() => timers.pending.length === 1);
    expect(timers.pending[0]?.ms).toBeGreaterThan(63_000);
    expect(timers.pending[0]?.ms).toBeLessThanOrEqual(64_000);
    timers.fire();
    await until(() => timers.pending.length === 1);
    timers.fire();
    await until(() => states.length === 3);
    expect(states).toEqual(['ok', 'warn', 'alarm']);
    await w.stop();
    expect(w.running).toBe(false);
    expect(timers.pending).toEqual([]);
  });

  it('stop() cancels the round in flight and reports nothing from it', async () => {
    let sawAbort = false;
    const w = new ClockWatchdog({
      settings: settings(),
      measure: (signal) =>
        new Promise((resolve) => {
          signal.addEventListener('abort', () => {
            sawAbort = true;
            resolve(measurement(500));
          });
        }),
    });
    watchdogs.push(w);
    let events = 0;
    w.on('measurement', () => (events += 1));
    w.start();
    await w.stop();
    expect(sawAbort).toBe(true);
    expect(events).toBe(0);
    expect(w.state).toBe('unknown');
  });
});

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !cond(); i++) await new Promise((r) => setTimeout(r, 1));
  if (!cond()) throw new Error('condition not reached');
}
