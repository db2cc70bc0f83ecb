import { describe, expect, it } from 'vitest';
import {
  SntpKissOfDeathError,
  SntpTimeoutError,
  classifyOffset,
  combineSamples,
  measureServers,
  type SntpSample,
  type TimeServer,
} from '../../../appliance/src/clock/index.js';
import { sample } from './helpers.js';

const limits = { warnMs: 50, alarmMs: 100 };

describe('classifyOffset: thresholds on |offset|, inclusive', () => {
  it.each([
    [0, 'ok'],
    [49.999, 'ok'],
    [50, 'warn'],
    [-50, 'warn'],
    [99.999, 'warn'],
    [100, 'alarm'],
    [-100, 'alarm'],
    [250, 'alarm'],
    [null, 'unknown'],
    [Number.NaN, 'unknown'],
  ] as const)('%s ms is %s', (offset, state) => {
    expect(classifyOffset(offset, limits)).toBe(state);
  });
});

describe('combineSamples: median, worst-case bound', () => {
  it('has nothing to say about nothing', () => {
    expect(combineSamples([])).toEqual({
      offsetMs: null,
      errorBoundMs: null,
      delayMs: null,
      spreadMs: null,
      answered: 0,
    });
  });

  it('takes the middle of three, with that sample’s bound; one liar cannot move it', () => {
    const c = combineSamples([sample(12, 3), sample(900, 1), sample(10, 2)]);
    expect(c.offsetMs).toBe(12);
    expect(c.errorBoundMs).toBe(3);
    expect(c.spreadMs).toBe(890);
    expect(c.answered).toBe(3);
  });

  it('averages the middle two of an even count, with the larger bound', () => {
    const c = combineSamples([sample(10, 2), sample(20, 5), sample(0, 1), sample(30, 1)]);
    expect(c.offsetMs).toBe(15);
    expect(c.errorBoundMs).toBe(5);
  });
});

describe('measureServers', () => {
  const servers: TimeServer[] = [
    { host: '10.0.0.1', port: 123 },
    { host: '10.0.0.2', port: 123 },
    { host: '10.0.0.3', port: 123 },
  ];

  it('queries every server and reports each one, answer or failure', async () => {
    const query = async (server: TimeServer): Promise<SntpSample> => {
      if (server.host === '10.0.0.2') throw new SntpTimeoutError('10.0.0.2:123', 1000);
      if (server.host === '10.0.0.3') throw new SntpKissOfDeathError('10.0.0.3:123', 'RATE');
      return sample(42, 1.5, '10.0.0.1:123');
    };
    const m = await measureServers(servers, { query, now: () => 1234 });
    expect(m.at).toBe(1234);
    expect(m.offsetMs).toBe(42);
    expect(m.errorBoundMs).toBe(1.5);
    expect(m.answered).toBe(1);
    expect(m.servers.map((s) => s.server)).toEqual(['10.0.0.1:123', '10.0.0.2:123', '10.0.0.3:123']);
    expect(m.servers[1]).toMatchObject({ ok: false, error: { code: 'CLOCK_TIMEOUT' } });
    expect(m.servers[2]).toMatchObject({ ok: false, error: { code: 'CLOCK_KISS', kissCode: 'RATE' } });
    expect(m.chrony).toBeUndefined();
  });

  it('asks chrony too when told, and compares', async () => {
    const m = await measureServers(servers.slice(0, 1), {
      query: async () => sample(60),
      chrony: {
        read: async () => ({ status: 'unavailable', reason: 'chronyc is not installed' }),
        disagreeMs: 20,
      },
    });
    expect(m.chrony?.disagrees).toBe(false);
    expect(m.chrony?.note).toContain('chronyc is not installed');
  });

  it('keeps the lowest-delay answer of a burst, and rides out a lost one', async () => {
    const script = [
      new SntpTimeoutError('10.0.0.1:123', 1000),
      sample(47, 9, '10.0.0.1:123', 16),
      sample(41, 2, '10.0.0.1:123', 1),
    ];
    let i = 0;
    const query = async (): Promise<SntpSample> => {
      const next = script[i++];
      if (next instanceof Error) throw next;
      return next as SntpSample;
    };
    const m = await measureServers(servers.slice(0, 1), { query, samples: 3 });
    expect(i).toBe(3);
    expect(m.offsetMs).toBe(41);
    expect(m.delayMs).toBe(1);
  });

  it("stops a burst at a kiss-o'-death", async () => {
    let calls = 0;
    const query = async (): Promise<SntpSample> => {
      calls += 1;
      throw new SntpKissOfDeathError('10.0.0.1:123', 'RATE');
    };
    const m = await measureServers(servers.slice(0, 1), { query, samples: 3 });
    expect(calls).toBe(1);
    expect(m.servers[0]).toMatchObject({ ok: false, error: { kissCode: 'RATE' } });
  });

  it('survives a query that throws something untyped', async () => {
    const m = await measureServers(servers.slice(0, 1), {
      query: async () => {
        throw new Error('boom');
      },
    });
    expect(m.offsetMs).toBeNull();
    expect(m.servers[0]).toMatchObject({ ok: false, error: { code: 'CLOCK_INTERNAL', message: 'boom' } });
  });
});
