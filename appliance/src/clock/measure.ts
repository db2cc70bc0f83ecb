import { SntpError } from './errors.js';
import { compareWithChrony, type ChronyComparison, type ChronyReading } from './chrony.js';
import { formatServer, type TimeServer } from './server.js';
import { sntpQuery, type SntpQueryOptions, type SntpSample } from './sntp.js';
import { preciseWallClock } from './wallclock.js';

/**
 * One measurement round: every server queried at once, the answers combined.
 *
 * Combination: the median of the answering servers' offsets. With an odd count the median is one
 * sample and its error bound is that sample's. With an even count the median is the mean of the
 * two middle samples; its error bound is the larger of their two bounds (the mean of two values,
 * each within its bound of the truth, is within the larger bound). A single server that is far
 * off cannot move the median of three or more, and `spreadMs` (largest minus smallest offset)
 * shows when the servers disagree among themselves.
 *
 * Each server is asked `samples` times back to back and the sample with the smallest round-trip
 * delay is kept (the idea of RFC 5905's clock filter: the shortest round trip has the least room
 * for asymmetry, so the smallest error bound). It also rides out one lost datagram. A
 * kiss-o'-death ends the burst at once.
 */

export type ClockState = 'ok' | 'warn' | 'alarm' | 'unknown';

export interface ServerFailure {
  code: string;
  message: string;
  /** Kiss-o'-death code, when the failure is one. */
  kissCode?: string;
}

export type ServerResult =
  { server: string; ok: true; sample: SntpSample } | { server: string; ok: false; error: ServerFailure };

export interface Measurement {
  /** Local time (Unix ms) when the round ended. */
  at: number;
  /** Combined offset (server minus local, ms), null when no server answered. */
  offsetMs: number | null;
  errorBoundMs: number | null;
  /** Round-trip delay of the chosen sample (mean of the two for an even count). */
  delayMs: number | null;
  /** Largest minus smallest offset among answering servers. */
  spreadMs: number | null;
  answered: number;
  servers: ServerResult[];
  /** Present when chrony was consulted. */
  chrony?: ChronyComparison;
}

export interface MeasureOptions extends Omit<SntpQueryOptions, 'signal'> {
  signal?: AbortSignal;
  /** Replaces the SNTP query (tests). */
  query?: (server: TimeServer, options: SntpQueryOptions) => Promise<SntpSample>;
  /** Queries per server per round; the lowest-delay answer is kept. Default 1. */
  samples?: number;
  /** Consult chrony too: how to read it and when to call it a disagreement. */
  chrony?: { read: () => Promise<ChronyReading>; disagreeMs: number };
}

export async function measureServers(
  servers: TimeServer[],
  options: MeasureOptions = {},
): Promise<Measurement> {
  const query = options.query ?? sntpQuery;
  const { chrony, query: _q, samples: _s, ...queryOptions } = options;
  const samples = Math.max(1, options.samples ?? 1);
  const chronyPromise = chrony?.read();
  const results = await Promise.all(
    servers.map(async (server): Promise<ServerResult> => {
      const label = formatServer(server);
      let best: SntpSample | null = null;
      let lastError: unknown = null;
      for (let i = 0; i < samples; i++) {
        if (options.signal?.aborted) break;
        try {
          const s = await query(server, queryOptions);
          if (best === null || s.delayMs < best.delayMs) best = s;
        } catch (err) {
          lastError = err;
          if (err instanceof SntpError && (err.code === 'CLOCK_KISS' || err.code === 'CLOCK_ABORTED')) break;
        }
      }
      if (best !== null) return { server: label, ok: true, sample: best };
      return { server: label, ok: false, error: describeFailure(lastError) };
    }),
  );
  const combined = combineSamples(results.flatMap((r) => (r.ok ? [r.sample] : [])));
  const now = options.now ?? (() => preciseWallClock.now());
  const measurement: Measurement = { at: now(), ...combined, servers: results };
  if (chrony && chronyPromise) {
    measurement.chrony = compareWithChrony(combined.offsetMs, await chronyPromise, chrony.disagreeMs);
  }
  return measurement;
}

function describeFailure(err: unknown): ServerFailure {
  if (err instanceof SntpError) {
    const failure: ServerFailure = { code: err.code, message: err.message };
    if ('kissCode' in err && typeof err.kissCode === 'string') failure.kissCode = err.kissCode;
    return failure;
  }
  return { code: 'CLOCK_INTERNAL', message: err instanceof Error ? err.message : String(err) };
}

/** Median offset and its error bound (see the module comment). */
export function combineSamples(
  samples: SntpSample[],
): Pick<Measurement, 'offsetMs' | 'errorBoundMs' | 'delayMs' | 'spreadMs' | 'answered'> {
  if (samples.length === 0) {
    return { offsetMs: null, errorBoundMs: null, delayMs: null, spreadMs: null, answered: 0 };
  }
  const sorted = [...samples].sort((a, b) => a.offsetMs - b.offsetMs);
  const n = sorted.length;
  const lo = sorted[Math.floor((n - 1) / 2)] as SntpSample;
  const hi = sorted[Math.floor(n / 2)] as SntpSample;
  const first = sorted[0] as SntpSample;
  const last = sorted[n - 1] as SntpSample;
  return {
    offsetMs: (lo.offsetMs + hi.offsetMs) / 2,
    errorBoundMs: Math.max(lo.errorBoundMs, hi.errorBoundMs),
    delayMs: (lo.delayMs + hi.delayMs) / 2,
    spreadMs: last.offsetMs - first.offsetMs,
    answered: n,
  };
}

/** The state a figure puts the clock in: thresholds on |offset|, inclusive. */
export function classifyOffset(
  offsetMs: number | null,
  limits: { warnMs: number; alarmMs: number },
): ClockState {
  if (offsetMs === null || !Number.isFinite(offsetMs)) return 'unknown';
  const abs = Math.abs(offsetMs);
  if (abs >= limits.alarmMs) return 'alarm';
  if (abs >= limits.warnMs) return 'warn';
  return 'ok';
}
