import { describe, expect, it } from 'vitest';
import {
  NTP_PACKET_SIZE,
  formatServer,
  ntpToUnixMs,
  unixMsToNtp,
} from '../../../appliance/src/clock/index.js';

describe('NTP timestamps', () => {
  it('converts the Unix epoch to NTP seconds 2208988800', () => {
    expect(unixMsToNtp(0)).toEqual({ seconds: 2_208_988_800, fraction: 0 });
  });

  it('round-trips a millisecond time to well under a microsecond', () => {
    const ms = Date.UTC(2026, 10, 21, 1, 30, 5) + 123.456;
    const back = ntpToUnixMs(unixMsToNtp(ms), ms);
    expect(Math.abs(back - ms)).toBeLessThan(0.001);
  });

  it('puts half a second in the top bit of the fraction', () => {
    expect(unixMsToNtp(500).fraction).toBe(0x8000_0000);
  });

  it('crosses the 2036 era rollover using the local clock as pivot', () => {
    const after = Date.UTC(2036, 1, 7, 6, 28, 20); // a few seconds past the rollover
    const ts = unixMsToNtp(after);
    expect(ts.seconds).toBeLessThan(100); // era 1 starts again near zero
    expect(ntpToUnixMs(ts, after - 60_000)).toBeCloseTo(after, 3);
  });

  it('has a 48-byte packet', () => {
    expect(NTP_PACKET_SIZE).toBe(48);
  });

  it('labels servers as host:port, IPv6 in brackets', () => {
    expect(formatServer({ host: '10.0.0.1', port: 123 })).toBe('10.0.0.1:123');
    expect(formatServer({ host: '::1', port: 123 })).toBe('[::1]:123');
  });
});
