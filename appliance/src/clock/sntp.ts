import dgram from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { randomInt } from 'node:crypto';
import {
  SntpAbortedError,
  SntpBadModeError,
  SntpBadStratumError,
  SntpKissOfDeathError,
  SntpMalformedError,
  SntpNetworkError,
  SntpOriginateMismatchError,
  SntpTimeoutError,
  SntpUnsynchronisedError,
  type SntpError,
} from './errors.js';
import {
  LEAP_UNSYNCHRONISED,
  MODE_SERVER,
  NTP_PACKET_SIZE,
  decodePacket,
  encodeClientRequest,
  formatRefId,
  isZeroTimestamp,
  ntpToUnixMs,
  refIdAscii,
  sameTimestamp,
  unixMsToNtp,
  type NtpTimestamp,
} from './packet.js';
import { formatServer, type TimeServer } from './server.js';
import { preciseWallClock } from './wallclock.js';

/**
 * One SNTP query (RFC 5905, client mode 3, version 4) and the checks on its reply.
 *
 *   T1  our clock when the request leaves      T2  server clock when it arrives
 *   T3  server clock when the reply leaves     T4  our clock when the reply arrives
 *
 *   offset θ = ((T2 − T1) + (T3 − T4)) / 2     server time minus ours: positive = we are behind
 *   delay  δ = (T4 − T1) − (T3 − T2)            the round trip, less the server's turnaround
 *
 * The true offset to the server's clock lies within θ ± δ/2 whatever the split of the round trip
 * between the two directions. Against UTC we add what the server itself does not know: half its
 * root delay plus its root dispersion, and both ends' reading precision (see errorBoundMs).
 */

export interface SntpQueryOptions {
  /** How long to wait for a valid reply. Default 1000 ms. */
  timeoutMs?: number;
  /** Local "now" in Unix milliseconds; tests inject a skewed clock. Default: the wall clock. */
  now?: () => number;
  /** Cancels the query (the watchdog's stop()). */
  signal?: AbortSignal;
  /**
   * Resolution of our own clock readings, added to the error bound. Default 1 ms: the wall clock
   * the rest of the appliance reads through Date.now() has whole-millisecond resolution.
   */
  localPrecisionMs?: number;
}

export interface SntpSample {
  /** "host:port" as configured. */
  server: string;
  /** The address actually queried. */
  address: string;
  /** Offset θ, milliseconds: server time minus local time. */
  offsetMs: number;
  /** Round-trip delay δ, milliseconds. */
  delayMs: number;
  /** Worst-case error of offsetMs against UTC as the server knows it (see module comment). */
  errorBoundMs: number;
  t1: number;
  t2: number;
  t3: number;
  t4: number;
  leap: number;
  version: number;
  stratum: number;
  /** log2 seconds, as sent. */
  precision: number;
  rootDelayMs: number;
  rootDispersionMs: number;
  /** Four letters (stratum 1 source) or dotted quad. */
  refId: string;
}

export const DEFAULT_TIMEOUT_MS = 1000;

/**
 * Query one server. Resolves with the sample, or rejects with one SntpError subclass per kind
 * of failure (timeout, bogus originate, wrong mode, unsynchronised, kiss-o'-death, bad stratum,
 * malformed, network, aborted).
 */
export async function sntpQuery(server: TimeServer, options: SntpQueryOptions = {}): Promise<SntpSample> {
  const label = formatServer(server);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const now = options.now ?? (() => preciseWallClock.now());
  const localPrecisionMs = options.localPrecisionMs ?? 1;
  const signal = options.signal;
  if (signal?.aborted) throw new SntpAbortedError(label);

  const { address, family } = await resolve(server.host, label);
  if (signal?.aborted) throw new SntpAbortedError(label);

  return new Promise<SntpSample>((resolvePromise, reject) => {
    const socket = dgram.createSocket(family === 6 ? 'udp6' : 'udp4');
    let t1 = 0;
    let sent: NtpTimestamp | undefined;
    let bogus = 0;
    let settled = false;

    const finish = (err: SntpError | null, sample?: SntpSample): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.removeAllListeners('message');
      socket.on('error', () => undefined); // late ICMP errors after close are of no interest
      try {
        socket.close();
      } catch {
        // already closed
      }
      if (err) reject(err);
      else resolvePromise(sample as SntpSample);
    };
    const onAbort = (): void => finish(new SntpAbortedError(label));
    const timer = setTimeout(
      () =>
        finish(
          bogus > 0 ? new SntpOriginateMismatchError(label, bogus) : new SntpTimeoutError(label, timeoutMs),
        ),
      timeoutMs,
    );
    signal?.addEventListener('abort', onAbort, { once: true });

    socket.on('error', (err) => finish(new SntpNetworkError(label, err.message, err)));
    socket.on('message', (msg) => {
      const t4 = now();
      if (!sent) return;
      const verdict = checkReply(msg, sent, { label, address, t1, t4, localPrecisionMs });
      if (verdict === 'bogus') {
        bogus += 1;
        return;
      }
      if (verdict instanceof Error) finish(verdict);
      else finish(null, verdict);
    });
    // A connected socket only delivers datagrams from the server's address and port.
    socket.connect(server.port, address, () => {
      if (settled) return;
      t1 = now();
      sent = withNonce(unixMsToNtp(t1));
      socket.send(encodeClientRequest(sent), (err) => {
        if (err) finish(new SntpNetworkError(label, err.message, err));
      });
    });
  });
}

async function resolve(host: string, label: string): Promise<{ address: string; family: number }> {
  const family = isIP(host);
  if (family !== 0) return { address: host, family };
  try {
    return await lookup(host);
  } catch (err) {
    throw new SntpNetworkError(label, `cannot resolve ${host}: ${(err as Error).message}`, err);
  }
}

/**
 * Replace the lowest 12 bits of the fraction (under a microsecond) with random ones: the
 * originate check then also rejects a blind forgery that guesses our clock to the millisecond.
 * The figures use our exact reading T1, never the wire value.
 */
function withNonce(ts: NtpTimestamp): NtpTimestamp {
  return { seconds: ts.seconds, fraction: ts.fraction - (ts.fraction % 4096) + randomInt(4096) };
}

interface ReplyContext {
  label: string;
  address: string;
  t1: number;
  t4: number;
  localPrecisionMs: number;
}

/** Check one datagram: a sample, a typed error, or 'bogus' (not an answer to our request). */
export function checkReply(
  msg: Buffer,
  sent: NtpTimestamp,
  ctx: ReplyContext,
): SntpSample | SntpError | 'bogus' {
  const { label } = ctx;
  if (msg.length < NTP_PACKET_SIZE) {
    return new SntpMalformedError(label, `${msg.length} bytes, expected at least ${NTP_PACKET_SIZE}`);
  }
  const p = decodePacket(msg);
  if (p.mode !== MODE_SERVER) return new SntpBadModeError(label, p.mode);
  if (!sameTimestamp(p.originate, sent)) return 'bogus';
  if (p.version < 1 || p.version > 4) return new SntpMalformedError(label, `version ${p.version}`);
  const kiss = refIdAscii(p.refId);
  if (p.stratum === 0 && kiss !== '') return new SntpKissOfDeathError(label, kiss);
  if (p.leap === LEAP_UNSYNCHRONISED) return new SntpUnsynchronisedError(label);
  if (p.stratum === 0 || p.stratum > 15) return new SntpBadStratumError(label, p.stratum);
  if (isZeroTimestamp(p.transmit) || isZeroTimestamp(p.receive)) {
    return new SntpMalformedError(label, 'zero receive or transmit timestamp');
  }

  const { t1, t4 } = ctx;
  const t2 = ntpToUnixMs(p.receive, t1);
  const t3 = ntpToUnixMs(p.transmit, t4);
  const offsetMs = (t2 - t1 + (t3 - t4)) / 2;
  const delayMs = t4 - t1 - (t3 - t2);
  const rootDelayMs = p.rootDelay * 1000;
  const rootDispersionMs = p.rootDispersion * 1000;
  const serverPrecisionMs = 2 ** p.precision * 1000;
  const errorBoundMs =
    Math.max(delayMs, 0) / 2 + rootDelayMs / 2 + rootDispersionMs + serverPrecisionMs + ctx.localPrecisionMs;
  return {
    server: label,
    address: ctx.address,
    offsetMs,
    delayMs,
    errorBoundMs,
    t1,
    t2,
    t3,
    t4,
    leap: p.leap,
    version: p.version,
    stratum: p.stratum,
    precision: p.precision,
    rootDelayMs,
    rootDispersionMs,
    refId: formatRefId(p.refId, p.stratum),
  };
}
