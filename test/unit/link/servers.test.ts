import { describe, expect, it } from 'vitest';
import { ServerList } from '../../../appliance/src/link/index.js';
import { LINK, SERVERS } from './fake.js';

function list(random = (): number => 0.999999) {
  const clock = {
    t: 1_000_000,
    now(): number {
      return this.t;
    },
  };
  const servers = new ServerList({
    servers: SERVERS,
    backoffInitialMs: LINK.backoffInitialMs,
    backoffMaxMs: LINK.backoffMaxMs,
    primaryRetryS: LINK.primaryRetryS,
    clock,
    random,
  });
  return { servers, clock };
}

describe('ServerList', () => {
  it('starts at server 1 without delay and walks on (wrapping) on failures', () => {
    const { servers } = list();
    expect(servers.first()).toEqual({ index: 0, server: SERVERS[0], delayMs: 0 });
    expect(servers.next('failure').index).toBe(1);
    expect(servers.next('failure').index).toBe(2);
    expect(servers.next('failure').index).toBe(0);
  });

  it('stays on the same server after quit, a refused logon or an operator reconnect', () => {
    const { servers } = list();
    servers.first();
    servers.next('failure');
    expect(servers.next('quit').index).toBe(1);
    expect(servers.next('refused').index).toBe(1);
    expect(servers.next('operator').index).toBe(1);
  });

  it('backs off exponentially with full jitter, capped at the maximum', () => {
    const { servers } = list(() => 0.999999);
    servers.first();
    const delays = Array.from({ length: 8 }, () => servers.next('failure').delayMs);
    expect(delays).toEqual([999, 1999, 3999, 7999, 9999, 9999, 9999, 9999]);
    expect(servers.ceilingMs(1)).toBe(500);
    expect(servers.ceilingMs(2000)).toBe(10_000);
  });

  it('draws every delay from [0, ceiling) whatever the random source says', () => {
    for (const r of [0, 0.25, 0.5, 0.999, 1, -3, 7]) {
      const { servers } = list(() => r);
      servers.first();
      for (let n = 2; n < 12; n++) {
        const { delayMs } = servers.next('failure');
        expect(delayMs).toBeGreaterThanOrEqual(0);
        expect(delayMs).toBeLessThanOrEqual(servers.ceilingMs(n));
      }
    }
    const { servers } = list(() => 0);
    servers.first();
    expect(servers.next('failure').delayMs).toBe(0);
  });

  it('resets the backoff after a successful logon', () => {
    const { servers } = list(() => 0.5);
    servers.first();
    servers.next('failure');
    servers.next('failure');
    expect(servers.next('failure').delayMs).toBe(2000);
    servers.loggedOn();
    expect(servers.attemptCount).toBe(0);
    expect(servers.next('quit').delayMs).toBe(250);
  });

  it('goes back to server 1 on the next reconnect once primaryRetryS have passed on a fallback', () => {
    const { servers, clock } = list();
    servers.first();
    servers.next('failure'); // left server 1 at t0
    servers.loggedOn();
    clock.t += 299_999;
    expect(servers.next('quit').index).toBe(1); // not yet
    clock.t += 1;
    expect(servers.next('quit').index).toBe(0); // any reason, even one that keeps the server
    // Server 1 still bad: walk on, and the period starts afresh.
    expect(servers.next('failure').index).toBe(1);
    clock.t += 100_000;
    expect(servers.next('failure').index).toBe(2); // fallback to fallback keeps the period running
    clock.t += 199_999;
    expect(servers.next('refused').index).toBe(2);
    clock.t += 1;
    expect(servers.next('refused').index).toBe(0);
  });

  it('never moves away from server 1 because of the primary rule', () => {
    const { servers, clock } = list();
    servers.first();
    clock.t += 10_000_000;
    expect(servers.next('quit').index).toBe(0);
  });

  it('follows an operator switch at once, and the primary rule applies after it', () => {
    const { servers, clock } = list();
    servers.first();
    servers.next('failure');
    servers.next('failure');
    expect(servers.switchTo(1)).toEqual({ index: 1, server: SERVERS[1], delayMs: 0 });
    expect(servers.attemptCount).toBe(0);
    clock.t += 299_000;
    expect(servers.next('quit').index).toBe(1);
    clock.t += 1_000;
    expect(servers.next('quit').index).toBe(0);
    expect(() => servers.switchTo(3)).toThrow(RangeError);
    expect(() => servers.switchTo(-1)).toThrow(RangeError);
    expect(() => servers.switchTo(0.5)).toThrow(RangeError);
  });

  it('refuses an empty list and a backwards backoff', () => {
    const clock = { now: (): number => 0 };
    const base = { backoffInitialMs: 1, backoffMaxMs: 2, primaryRetryS: 1, clock, random: Math.random };
    expect(() => new ServerList({ ...base, servers: [] })).toThrow(RangeError);
    expect(() => new ServerList({ ...base, servers: SERVERS, backoffInitialMs: 5 })).toThrow(RangeError);
  });
});
