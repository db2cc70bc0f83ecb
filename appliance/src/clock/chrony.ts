import { execFile } from 'node:child_process';
import { ChronyParseError } from './errors.js';

/**
 * chrony's own view of the system clock, as a second opinion beside our SNTP figure.
 *
 * `chronyc -c tracking` prints one CSV line of 14 fields:
 *   reference id (hex), reference name, stratum, reference time (Unix s), system time (s),
 *   last offset (s), RMS offset (s), frequency (ppm), residual frequency (ppm), skew (ppm),
 *   root delay (s), root dispersion (s), update interval (s), leap status
 *
 * "System time" is how far the system clock is from chronyd's estimate of true time; chronyc
 * prints it as "N seconds slow of NTP time" when positive ("fast" when negative). A slow clock is
 * behind, so the value has the sign of our SNTP offset θ (server minus local) and the two are
 * compared directly.
 */
export interface ChronyTracking {
  refId: string;
  refName: string;
  stratum: number;
  refTimeUnixS: number;
  /** Positive = system clock behind (slow of) chrony's true time; same sign as SNTP θ. */
  systemTimeMs: number;
  lastOffsetMs: number;
  rmsOffsetMs: number;
  frequencyPpm: number;
  residualFreqPpm: number;
  skewPpm: number;
  rootDelayMs: number;
  rootDispersionMs: number;
  updateIntervalS: number;
  /** 'Normal', 'Insert second', 'Delete second' or 'Not synchronised'. */
  leapStatus: string;
}

export type ChronyReading =
  { status: 'ok'; tracking: ChronyTracking } | { status: 'unavailable'; reason: string };

/** Parse the CSV line of `chronyc -c tracking`; throws ChronyParseError. */
export function parseChronyTracking(output: string): ChronyTracking {
  const line = output.split('\n').find((l) => l.trim() !== '');
  if (line === undefined) throw new ChronyParseError('empty output');
  const f = line.trim().split(',');
  if (f.length !== 14) throw new ChronyParseError(`expected 14 comma-separated fields, got ${f.length}`);
  const num = (i: number, name: string): number => {
    const text = f[i] ?? '';
    const n = Number(text);
    if (text.trim() === '' || !Number.isFinite(n))
      throw new ChronyParseError(`${name} is not a number: '${text}'`);
    return n;
  };
  return {
    refId: f[0] ?? '',
    refName: f[1] ?? '',
    stratum: num(2, 'stratum'),
    refTimeUnixS: num(3, 'reference time'),
    systemTimeMs: num(4, 'system time') * 1000,
    lastOffsetMs: num(5, 'last offset') * 1000,
    rmsOffsetMs: num(6, 'RMS offset') * 1000,
    frequencyPpm: num(7, 'frequency'),
    residualFreqPpm: num(8, 'residual frequency'),
    skewPpm: num(9, 'skew'),
    rootDelayMs: num(10, 'root delay') * 1000,
    rootDispersionMs: num(11, 'root dispersion') * 1000,
    updateIntervalS: num(12, 'update interval'),
    leapStatus: f[13] ?? '',
  };
}

export interface ChronyReaderOptions {
  /** The chronyc program. Default 'chronyc' on PATH. */
  command?: string;
  /** chronyc -h: a host or the path of chronyd's Unix command socket. Default: chronyc's own. */
  host?: string;
  timeoutMs?: number;
}

/**
 * Ask chronyc. Never throws: no chronyc, no chronyd, a timeout or unreadable output all give
 * { status: 'unavailable', reason }.
 */
export function readChronyTracking(options: ChronyReaderOptions = {}): Promise<ChronyReading> {
  const command = options.command ?? 'chronyc';
  const args = ['-n', '-c'];
  if (options.host !== undefined) args.push('-h', options.host);
  args.push('tracking');
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      { timeout: options.timeoutMs ?? 2000, windowsHide: true },
      (err, stdout, stderr) => {
        if (err) {
          const code = (err as NodeJS.ErrnoException).code;
          const reason =
            code === 'ENOENT'
              ? `${command} is not installed`
              : err.killed
                ? `${command} did not answer in time`
                : `${command} failed: ${(String(stderr).trim() || String(stdout).trim() || err.message).split('\n')[0]}`;
          resolve({ status: 'unavailable', reason });
          return;
        }
        try {
          resolve({ status: 'ok', tracking: parseChronyTracking(String(stdout)) });
        } catch (e) {
          resolve({ status: 'unavailable', reason: (e as Error).message });
        }
      },
    );
  });
}

export interface ChronyComparison {
  reading: ChronyReading;
  /** SNTP θ minus chrony's system time, ms; null when either is missing. */
  differenceMs: number | null;
  /**
   * True when both figures exist and differ by at least the threshold, or when chronyd says it
   * is not synchronised while we have a figure. False when they agree or there is nothing to
   * compare.
   */
  disagrees: boolean;
  thresholdMs: number;
  note: string;
}

/** Compare our combined SNTP offset with chrony's view. */
export function compareWithChrony(
  sntpOffsetMs: number | null,
  reading: ChronyReading,
  thresholdMs: number,
): ChronyComparison {
  if (reading.status !== 'ok') {
    return {
      reading,
      differenceMs: null,
      disagrees: false,
      thresholdMs,
      note: `unavailable: ${reading.reason}`,
    };
  }
  const t = reading.tracking;
  if (sntpOffsetMs === null) {
    return { reading, differenceMs: null, disagrees: false, thresholdMs, note: 'no SNTP figure to compare' };
  }
  if (t.leapStatus === 'Not synchronised') {
    return {
      reading,
      differenceMs: null,
      disagrees: true,
      thresholdMs,
      note: 'chronyd is not synchronised while the time servers answer',
    };
  }
  const differenceMs = sntpOffsetMs - t.systemTimeMs;
  const disagrees = Math.abs(differenceMs) >= thresholdMs;
  return {
    reading,
    differenceMs,
    disagrees,
    thresholdMs,
    note: disagrees
      ? `disagrees with SNTP by ${differenceMs.toFixed(1)} ms (threshold ${thresholdMs} ms)`
      : `agrees with SNTP within ${Math.abs(differenceMs).toFixed(1)} ms`,
  };
}
