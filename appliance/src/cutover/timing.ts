/**
 * RTO as the DR practice counts it (seed 002 §5.6): "从主中心系统出故障开始计时至业务恢复正常停止计时"
 * - from the fault at the main centre to business running again, which for this gateway is the
 * first heartbeat from the main station after the logon. `--fault-at` states when the fault
 * happened; the report gives that RTO beside the command's own duration (which is only a part).
 */
import { cstClock, cstDate, AppError } from '../shared/index.js';

const CST_OFFSET_MS = 8 * 3600 * 1000;

export class FaultTimeError extends AppError {}

/**
 * `--fault-at`: an ISO time with its zone (2026-12-02T14:03:00+08:00, …Z), an ISO time without
 * one (read as CST), or HH:MM[:SS] CST: the most recent such time (today, or yesterday just after
 * midnight). Must not lie in the future (a minute of difference between the people's watches
 * allowed) nor more than 7 days back (a typo).
 */
export function parseFaultAt(text: string, now: number): number {
  const t = text.trim();
  let ms: number;
  const hms = /^([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$/.exec(t);
  if (hms) {
    const day = cstDate(now);
    const midnight =
      Date.UTC(Number(day.slice(0, 4)), Number(day.slice(4, 6)) - 1, Number(day.slice(6, 8))) - CST_OFFSET_MS;
    ms = midnight + (Number(hms[1]) * 3600 + Number(hms[2]) * 60 + Number(hms[3] ?? 0)) * 1000;
    // The most recent such time: a fault at 23:58 cut over at 00:03 was yesterday's 23:58.
    if (ms > now + 60_000) ms -= 86_400_000;
  } else if (/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)$/.test(t)) {
    ms = Date.parse(t);
  } else if (/^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?$/.test(t)) {
    ms = Date.parse(`${t.replace(' ', 'T')}+08:00`);
  } else {
    throw new FaultTimeError(
      'NQ630',
      `--fault-at ${JSON.stringify(text)}: expected HH:MM[:SS] (CST, today) or an ISO time`,
      'e.g. --fault-at 14:03 or --fault-at 2026-12-02T14:03:00+08:00',
    );
  }
  if (!Number.isFinite(ms)) {
    throw new FaultTimeError('NQ630', `--fault-at ${JSON.stringify(text)} is not a valid time`);
  }
  if (ms > now + 60_000) {
    throw new FaultTimeError(
      'NQ631',
      `--fault-at ${cstClock(ms)} CST ${cstDate(ms)} is in the future`,
      'give the time the fault at the main centre was seen (HH:MM today, CST)',
    );
  }
  if (ms < now - 7 * 86_400_000) {
    throw new FaultTimeError('NQ631', `--fault-at ${new Date(ms).toISOString()} is more than 7 days ago`);
  }
  return ms;
}

/** 5 min 13.4 s / 13.45 s: durations in an operator's words. */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  const h = Math.floor(ms / 3_600_000);
  const m = Math.floor((ms % 3_600_000) / 60_000);
  const s = ((ms % 60_000) / 1000).toFixed(1);
  return h > 0 ? `${h} h ${m} min ${s} s` : `${m} min ${s} s`;
}

/** The report's RTO line, when the fault time was given and the heartbeat reached. */
export function rtoLine(faultAt: number, recoveredAt: number, commandMs: number): string {
  return (
    `RTO ${formatDuration(recoveredAt - faultAt)}: from the fault at ${cstClock(faultAt)} CST ` +
    `(--fault-at) to the first heartbeat at ${cstClock(recoveredAt)}; this command's own part ${formatDuration(commandMs)}`
  );
}
