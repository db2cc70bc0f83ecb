import { performance } from 'node:perf_hooks';
import type { Clock } from '../shared/index.js';

/**
 * The system wall clock (what Date.now() reads, and what stamps orders) with sub-millisecond
 * resolution. Date.now() truncates to whole milliseconds, which alone would cost up to 1 ms per
 * timestamp; the monotonic performance counter interpolates between its ticks.
 *
 * We keep `anchor` = wall time minus monotonic time, and check every reading against Date.now():
 * the true wall time lies in [Date.now(), Date.now() + 1). When the interpolated value falls
 * outside that window (the system clock was stepped or slewed, or the anchor started off), the
 * anchor is pulled just inside it. So the result never strays more than 1 ms from the wall clock
 * and is usually within a few microseconds of it.
 */
export function createPreciseWallClock(): Clock {
  let anchor = Date.now() + 0.5 - performance.now();
  return {
    now(): number {
      const mono = performance.now();
      const wall = Date.now();
      let t = anchor + mono;
      if (t < wall) {
        anchor = wall - mono;
        t = wall;
      } else if (t >= wall + 1) {
        anchor = wall + 0.999 - mono;
        t = wall + 0.999;
      }
      return t;
    },
  };
}

/** One shared instance: the default "now" of every time query. */
export const preciseWallClock: Clock = createPreciseWallClock();
