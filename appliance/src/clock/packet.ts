/**
 * The 48-byte NTP packet of RFC 5905 (section 7.3), without extension fields or MAC, and the
 * conversion between NTP timestamps and Unix milliseconds.
 *
 *   byte 0      LI (2 bits) | VN (3 bits) | Mode (3 bits)
 *   byte 1      stratum          byte 2  poll (log2 s, signed)    byte 3  precision (log2 s, signed)
 *   4..7        root delay       (NTP short format: 16.16 fixed-point seconds)
 *   8..11       root dispersion  (NTP short format)
 *   12..15      reference id     (kiss code in ASCII when stratum is 0)
 *   16..23      reference timestamp   24..31 originate   32..39 receive   40..47 transmit
 *               (NTP timestamp format: 32-bit seconds since 1900 + 32-bit fraction)
 */

export const NTP_PACKET_SIZE = 48;
export const MODE_CLIENT = 3;
export const MODE_SERVER = 4;
export const LEAP_UNSYNCHRONISED = 3;

/** Seconds from 1900-01-01 (NTP era 0) to 1970-01-01. */
const NTP_UNIX_DELTA_S = 2_208_988_800;
const TWO_32 = 4_294_967_296;
const ERA_MS = TWO_32 * 1000;

/** An NTP timestamp as its two 32-bit words. */
export interface NtpTimestamp {
  seconds: number;
  fraction: number;
}

/** Unix milliseconds (fractions allowed) to an NTP timestamp; the era wraps modulo 2^32 s. */
export function unixMsToNtp(ms: number): NtpTimestamp {
  const totalS = ms / 1000 + NTP_UNIX_DELTA_S;
  let seconds = Math.floor(totalS);
  let fraction = Math.round((totalS - seconds) * TWO_32);
  if (fraction >= TWO_32) {
    seconds += 1;
    fraction -= TWO_32;
  }
  return { seconds: ((seconds % TWO_32) + TWO_32) % TWO_32, fraction };
}

/**
 * An NTP timestamp to Unix milliseconds, choosing the era (136-year block) that puts the result
 * nearest to `pivotMs` (normally the local clock), so the 2036 rollover needs no special case.
 */
export function ntpToUnixMs(ts: NtpTimestamp, pivotMs: number): number {
  const base = (ts.seconds - NTP_UNIX_DELTA_S) * 1000 + (ts.fraction / TWO_32) * 1000;
  const eras = Math.round((pivotMs - base) / ERA_MS);
  return base + eras * ERA_MS;
}

export function readTimestamp(buf: Buffer, offset: number): NtpTimestamp {
  return { seconds: buf.readUInt32BE(offset), fraction: buf.readUInt32BE(offset + 4) };
}

export function writeTimestamp(buf: Buffer, offset: number, ts: NtpTimestamp): void {
  buf.writeUInt32BE(ts.seconds, offset);
  buf.writeUInt32BE(ts.fraction, offset + 4);
}

export function isZeroTimestamp(ts: NtpTimestamp): boolean {
  return ts.seconds === 0 && ts.fraction === 0;
}

export function sameTimestamp(a: NtpTimestamp, b: NtpTimestamp): boolean {
  return a.seconds === b.seconds && a.fraction === b.fraction;
}

/** The fields of a packet as numbers; timestamps stay raw (see ntpToUnixMs). */
export interface NtpPacket {
  leap: number;
  version: number;
  mode: number;
  stratum: number;
  poll: number;
  precision: number;
  /** Seconds. */
  rootDelay: number;
  /** Seconds. */
  rootDispersion: number;
  /** The raw 32-bit reference id. */
  refId: number;
  reference: NtpTimestamp;
  originate: NtpTimestamp;
  receive: NtpTimestamp;
  transmit: NtpTimestamp;
}

/** Decode the first 48 bytes; the caller checks the length first. */
export function decodePacket(buf: Buffer): NtpPacket {
  const b0 = buf.readUInt8(0);
  return {
    leap: b0 >> 6,
    version: (b0 >> 3) & 0x07,
    mode: b0 & 0x07,
    stratum: buf.readUInt8(1),
    poll: buf.readInt8(2),
    precision: buf.readInt8(3),
    rootDelay: buf.readUInt32BE(4) / 65536,
    rootDispersion: buf.readUInt32BE(8) / 65536,
    refId: buf.readUInt32BE(12),
    reference: readTimestamp(buf, 16),
    originate: readTimestamp(buf, 24),
    receive: readTimestamp(buf, 32),
    transmit: readTimestamp(buf, 40),
  };
}

/** A version-4 client request (mode 3) carrying `transmit` as its transmit timestamp. */
export function encodeClientRequest(transmit: NtpTimestamp): Buffer {
  const buf = Buffer.alloc(NTP_PACKET_SIZE);
  buf.writeUInt8((0 << 6) | (4 << 3) | MODE_CLIENT, 0);
  writeTimestamp(buf, 40, transmit);
  return buf;
}

/** The reference id as four ASCII letters (kiss codes, stratum-1 sources) when it is printable. */
export function refIdAscii(refId: number): string {
  let s = '';
  for (let shift = 24; shift >= 0; shift -= 8) {
    const c = (refId >>> shift) & 0xff;
    if (c === 0) break;
    if (c < 0x20 || c > 0x7e) return '';
    s += String.fromCharCode(c);
  }
  return s;
}

/**
 * The reference id as operators know it: four letters for stratum 0/1 (kiss code or source such
 * as GPS, LOCL), a dotted IPv4 address above (the server's own upstream, or a hash for IPv6).
 */
export function formatRefId(refId: number, stratum: number): string {
  if (stratum <= 1) {
    const ascii = refIdAscii(refId);
    if (ascii) return ascii;
  }
  return [24, 16, 8, 0].map((s) => (refId >>> s) & 0xff).join('.');
}
