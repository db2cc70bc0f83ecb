import { describe, expect, it } from 'vitest';
import {
  ChronyParseError,
  compareWithChrony,
  parseChronyTracking,
  readChronyTracking,
  type ChronyReading,
} from '../../../appliance/src/clock/index.js';

// Real output of chronyc 4.3 -c tracking, chronyd following a server 200 ms ahead ("slow").
const SLOW =
  '7F000001,127.0.0.1,2,1795303333.798457902,0.199734047,-0.000020310,0.000040572,-24.742,-0.666,28.850,0.000308908,0.000079395,0.3,Normal\n';
const UNSYNC =
  '00000000,,0,0.000000000,0.000000000,0.000000000,0.000000000,0.000,0.000,0.000,1.000000000,1.000000000,0.0,Not synchronised\n';

describe('chronyc -c tracking', () => {
  it('parses the 14 fields, in milliseconds', () => {
    const t = parseChronyTracking(SLOW);
    expect(t.refId).toBe('7F000001');
    expect(t.refName).toBe('127.0.0.1');
    expect(t.stratum).toBe(2);
    expect(t.systemTimeMs).toBeCloseTo(199.734047, 6);
    expect(t.lastOffsetMs).toBeCloseTo(-0.02031, 6);
    expect(t.frequencyPpm).toBeCloseTo(-24.742, 6);
    expect(t.rootDelayMs).toBeCloseTo(0.308908, 6);
    expect(t.rootDispersionMs).toBeCloseTo(0.079395, 6);
    expect(t.updateIntervalS).toBe(0.3);
    expect(t.leapStatus).toBe('Normal');
  });

  it.each([
    ['', /empty/],
    ['a,b,c', /14/],
    [SLOW.replace('0.199734047', 'abc'), /system time/],
  ])('rejects %j', (text, message) => {
    expect(() => parseChronyTracking(text)).toThrow(ChronyParseError);
    expect(() => parseChronyTracking(text)).toThrow(message);
  });

  it("is 'unavailable', not a crash, when chronyc is not installed", async () => {
    const r = await readChronyTracking({ command: 'chronyc-that-is-not-installed' });
    expect(r).toEqual({ status: 'unavailable', reason: 'chronyc-that-is-not-installed is not installed' });
  });

  it("is 'unavailable' when chronyc prints something else", async () => {
    const r = await readChronyTracking({ command: 'echo' });
    expect(r.status).toBe('unavailable');
  });
});

describe('SNTP against chrony', () => {
  const ok: ChronyReading = { status: 'ok', tracking: parseChronyTracking(SLOW) };

  it('agrees when the figures are within the threshold (same sign convention)', () => {
    const c = compareWithChrony(201, ok, 20);
    expect(c.disagrees).toBe(false);
    expect(c.differenceMs).toBeCloseTo(1.266, 2);
  });

  it('disagrees at the threshold and beyond, either way', () => {
    expect(compareWithChrony(199.734047 + 20, ok, 20).disagrees).toBe(true);
    expect(compareWithChrony(0, ok, 20).disagrees).toBe(true);
    expect(compareWithChrony(-200, ok, 20).disagrees).toBe(true);
  });

  it('disagrees when chronyd is not synchronised but the servers answer', () => {
    const c = compareWithChrony(3, { status: 'ok', tracking: parseChronyTracking(UNSYNC) }, 20);
    expect(c.disagrees).toBe(true);
    expect(c.note).toContain('not synchronised');
  });

  it('has nothing to compare without chrony or without a figure', () => {
    expect(compareWithChrony(3, { status: 'unavailable', reason: 'x' }, 20).disagrees).toBe(false);
    expect(compareWithChrony(null, ok, 20).disagrees).toBe(false);
  });
});
