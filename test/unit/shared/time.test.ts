import { describe, expect, it } from 'vitest';
import { cstDate, cstTime, cstMinuteOfDay } from '../../../appliance/src/shared/index.js';

describe('China Standard Time helpers', () => {
  it('gives the CST date across UTC midnight, whatever the host timezone', () => {
    // 2026-11-20 17:30 UTC is 2026-11-21 01:30 in Shanghai.
    const ms = Date.UTC(2026, 10, 20, 17, 30, 5);
    expect(cstDate(ms)).toBe('20261121');
    expect(cstTime(ms)).toBe('013005');
    expect(cstMinuteOfDay(ms)).toBe(90);
  });
  it('is still the same CST day late in the Shanghai evening', () => {
    const ms = Date.UTC(2026, 10, 21, 15, 59, 59); // 23:59:59 CST
    expect(cstDate(ms)).toBe('20261121');
  });
});
