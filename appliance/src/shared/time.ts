/**
 * Time as the exchange sees it. Every "today", trading date and time stamp in the DBF files is
 * China Standard Time (Asia/Shanghai, UTC+8, no daylight saving since 1991), whatever timezone the
 * VM is set to. We add the fixed offset to UTC instead of asking the host's tz database, so a VM
 * left on UTC (the cloud default) still writes the broker's dates.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

const CST_OFFSET_MS = 8 * 3600 * 1000;

function cstParts(ms: number): { y: number; mo: number; d: number; h: number; mi: number; s: number } {
  const t = new Date(ms + CST_OFFSET_MS);
  return {
    y: t.getUTCFullYear(),
    mo: t.getUTCMonth() + 1,
    d: t.getUTCDate(),
    h: t.getUTCHours(),
    mi: t.getUTCMinutes(),
    s: t.getUTCSeconds(),
  };
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** YYYYMMDD in China Standard Time. */
export function cstDate(ms: number): string {
  const p = cstParts(ms);
  return `${pad(p.y, 4)}${pad(p.mo)}${pad(p.d)}`;
}

/** HHMMSS in China Standard Time. */
export function cstTime(ms: number): string {
  const p = cstParts(ms);
  return `${pad(p.h)}${pad(p.mi)}${pad(p.s)}`;
}

/** HH:MM:SS in China Standard Time, as the vendor's log prints it. */
export function cstClock(ms: number): string {
  const p = cstParts(ms);
  return `${pad(p.h)}:${pad(p.mi)}:${pad(p.s)}`;
}

/** Minutes since CST midnight, for HH:MM options such as the automatic exit time. */
export function cstMinuteOfDay(ms: number): number {
  const p = cstParts(ms);
  return p.h * 60 + p.mi;
}
