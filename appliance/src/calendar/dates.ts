/**
 * Calendar dates as plain `YYYY-MM-DD` strings, with arithmetic on whole days. No time zone is
 * involved: a date here is already the exchange's (China Standard Time) date. Use `cstIsoDate`
 * to turn an instant into today's exchange date.
 */
import { cstDate } from '../shared/index.js';

const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

/** Days since 1970-01-01 of a valid `YYYY-MM-DD`, or null when the text is not a real date. */
export function dayNumber(iso: string): number | null {
  const m = ISO_RE.exec(iso);
  if (!m) return null;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return null;
  return ms / DAY_MS;
}

export function isIsoDate(text: string): boolean {
  return dayNumber(text) !== null;
}

/** `YYYY-MM-DD` of a day number. */
export function isoOfDay(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** The date `n` calendar days after `iso` (n may be negative). `iso` must be valid. */
export function addDays(iso: string, n: number): string {
  const day = dayNumber(iso);
  if (day === null) throw new RangeError(`not a date: ${iso}`);
  return isoOfDay(day + n);
}

/** 0 Sunday … 6 Saturday. */
export function weekday(iso: string): number {
  const day = dayNumber(iso);
  if (day === null) throw new RangeError(`not a date: ${iso}`);
  // 1970-01-01 was a Thursday (4).
  return (((day + 4) % 7) + 7) % 7;
}

export function isWeekend(iso: string): boolean {
  const w = weekday(iso);
  return w === 0 || w === 6;
}

export function yearOf(iso: string): number {
  return Number(iso.slice(0, 4));
}

/** The exchange's date (CST) of an instant, as `YYYY-MM-DD`. */
export function cstIsoDate(ms: number): string {
  const d = cstDate(ms);
  return `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}`;
}
