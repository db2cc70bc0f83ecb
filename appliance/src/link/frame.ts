/**
 * Framing of the modelled main-station protocol (docs/protocol.md). The vendor's log shows a
 * 16-byte packet header (`pkthdrsize = 16`); the official layout is not public, so this is the
 * project's model of it, kept in this one file:
 *
 *   offset size field
 *   0      2    magic   0x4E 0x51 ("NQ")
 *   2      1    version 1
 *   3      1    type    (MessageType)
 *   4      4    length  of the body in bytes, big-endian
 *   8      4    seq     packet sequence number of the sender in this session, from 1, big-endian
 *   12     2    flags   bit 0: possible duplicate (a resend after a crash or a reconnect)
 *   14     2    check   sum of header bytes 0..13 mod 65536, big-endian
 *
 * The body is UTF-8 JSON (see messages.ts). A frame longer than MAX_BODY is a protocol error.
 * MAX_BODY is 64 KiB: the largest message of the model (a Logon listing its units, a long Notice)
 * is a few KiB, a Return row under 1 KiB; a header announcing more is a hostile or broken peer, and
 * is refused at its header instead of buffering up to 4 GiB of body.
 */
export const HEADER_SIZE = 16;
export const MAGIC0 = 0x4e;
export const MAGIC1 = 0x51;
export const PROTOCOL_VERSION = 1;
export const MAX_BODY = 64 * 1024;
export const FLAG_POSS_DUP = 0x0001;

export interface Frame {
  type: number;
  seq: number;
  flags: number;
  body: Buffer;
}

export class FrameError extends Error {
  readonly code = 'NQ390';
  constructor(message: string) {
    super(message);
    this.name = 'FrameError';
  }
}

function headerSum(buf: Buffer, at: number): number {
  let sum = 0;
  for (let i = 0; i < 14; i++) sum += buf[at + i]!;
  return sum & 0xffff;
}

/**
 * Write one 16-byte header at `at` in `out` (which must have room for it). Lets a sender lay out
 * many frames in one buffer without a copy per frame; `encodeFrame` uses it too, so there is one
 * definition of the header.
 */
export function writeHeader(
  out: Buffer,
  at: number,
  type: number,
  length: number,
  seq: number,
  flags: number,
): void {
  if (length > MAX_BODY) throw new FrameError(`body of ${length} bytes is too long`);
  out[at] = MAGIC0;
  out[at + 1] = MAGIC1;
  out[at + 2] = PROTOCOL_VERSION;
  out[at + 3] = type;
  out.writeUInt32BE(length, at + 4);
  out.writeUInt32BE(seq >>> 0, at + 8);
  out.writeUInt16BE(flags & 0xffff, at + 12);
  out.writeUInt16BE(headerSum(out, at), at + 14);
}

export function encodeFrame(frame: Frame): Buffer {
  if (frame.body.length > MAX_BODY) throw new FrameError(`body of ${frame.body.length} bytes is too long`);
  const out = Buffer.allocUnsafe(HEADER_SIZE + frame.body.length);
  writeHeader(out, 0, frame.type, frame.body.length, frame.seq, frame.flags);
  frame.body.copy(out, HEADER_SIZE);
  return out;
}

interface PendingHeader {
  type: number;
  seq: number;
  flags: number;
  length: number;
}

export interface FrameDecoderOptions {
  /** Largest body accepted (default MAX_BODY); a header announcing more is a FrameError at once. */
  maxBody?: number;
}

/**
 * Incremental decoder: feed it whatever the socket delivers, take whole frames out. Throws
 * FrameError on a header that cannot be ours (the link is then dropped and rebuilt, never
 * resynchronised by guessing).
 *
 * Linear in the bytes received: chunks are kept as a list (no copy on arrival), the header is
 * checked as soon as its 16 bytes are in (so an oversized length is refused before any body
 * arrives), and a frame spread over several chunks is copied ONCE, when its last byte arrives.
 * A frame inside one chunk is not copied at all (its body is a view of the chunk). The previous
 * decoder concatenated the whole pending buffer on every chunk: quadratic, 6-9 s of blocked event
 * loop for one 1 MiB frame in 64-byte pieces.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  /** Bytes held in `chunks`. */
  private size = 0;
  /** The current frame's header, once its 16 bytes have arrived and passed the checks. */
  private header: PendingHeader | null = null;
  private readonly maxBody: number;
  private copied = 0;

  constructor(options: FrameDecoderOptions = {}) {
    this.maxBody = Math.min(options.maxBody ?? MAX_BODY, 0xffffffff);
  }

  push(chunk: Buffer): Frame[] {
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.size += chunk.length;
    }
    const frames: Frame[] = [];
    for (;;) {
      if (this.header === null) {
        if (this.size < HEADER_SIZE) break;
        this.header = this.readHeader();
      }
      const total = HEADER_SIZE + this.header.length;
      if (this.size < total) break;
      const bytes = this.take(total);
      frames.push({
        type: this.header.type,
        seq: this.header.seq,
        flags: this.header.flags,
        body: bytes.subarray(HEADER_SIZE),
      });
      this.header = null;
    }
    return frames;
  }

  /** Bytes held of an incomplete frame. */
  get buffered(): number {
    return this.size;
  }

  /** Body length announced by the header of the incomplete frame, or null before its header is in. */
  get announced(): number | null {
    return this.header?.length ?? null;
  }

  /** Bytes copied so far (for the linearity test: about the bytes received, never their square). */
  get bytesCopied(): number {
    return this.copied;
  }

  /** Check the 16 header bytes at the front (not consumed: take() removes them with the body). */
  private readHeader(): PendingHeader {
    const first = this.chunks[0]!;
    const buf = first.length >= HEADER_SIZE ? first : this.gather(HEADER_SIZE);
    if (buf[0] !== MAGIC0 || buf[1] !== MAGIC1) throw new FrameError('bad magic in packet header');
    if (buf[2] !== PROTOCOL_VERSION) throw new FrameError(`unsupported protocol version ${buf[2]}`);
    if (buf.readUInt16BE(14) !== headerSum(buf, 0)) throw new FrameError('packet header checksum mismatch');
    const length = buf.readUInt32BE(4);
    if (length > this.maxBody) throw new FrameError(`body length ${length} exceeds ${this.maxBody}`);
    return { type: buf[3]!, seq: buf.readUInt32BE(8), flags: buf.readUInt16BE(12), length };
  }

  /** A copy of the first n held bytes (n <= size), without consuming them. */
  private gather(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
    let at = 0;
    for (const c of this.chunks) {
      if (at === n) break;
      at += c.copy(out, at, 0, Math.min(c.length, n - at));
    }
    this.copied += n;
    return out;
  }

  /** Remove and return the first n held bytes (n <= size): a view when one chunk holds them. */
  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let at = 0;
      let used = 0;
      while (at < n) {
        const c = this.chunks[used]!;
        const want = Math.min(c.length, n - at);
        c.copy(out, at, 0, want);
        at += want;
        if (want === c.length) used += 1;
        else this.chunks[used] = c.subarray(want);
      }
      this.chunks.splice(0, used);
      this.copied += n;
    }
    this.size -= n;
    return out;
  }
}
