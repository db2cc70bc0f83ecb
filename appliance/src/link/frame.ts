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
 */
export const HEADER_SIZE = 16;
export const MAGIC0 = 0x4e;
export const MAGIC1 = 0x51;
export const PROTOCOL_VERSION = 1;
export const MAX_BODY = 1 << 20;
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
export function writeHeader(out: Buffer, at: number, type: number, length: number, seq: number, flags: number): void {
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

/**
 * Incremental decoder: feed it whatever the socket delivers, take whole frames out. Keeps at most
 * one partial frame; throws FrameError on a header that cannot be ours (the link is then dropped
 * and rebuilt, never resynchronised by guessing).
 */
export class FrameDecoder {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Frame[] {
    let buf = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: Frame[] = [];
    let at = 0;
    while (buf.length - at >= HEADER_SIZE) {
      if (buf[at] !== MAGIC0 || buf[at + 1] !== MAGIC1) throw new FrameError('bad magic in packet header');
      if (buf[at + 2] !== PROTOCOL_VERSION) throw new FrameError(`unsupported protocol version ${buf[at + 2]}`);
      if (buf.readUInt16BE(at + 14) !== headerSum(buf, at)) throw new FrameError('packet header checksum mismatch');
      const length = buf.readUInt32BE(at + 4);
      if (length > MAX_BODY) throw new FrameError(`body length ${length} exceeds ${MAX_BODY}`);
      if (buf.length - at < HEADER_SIZE + length) break;
      frames.push({
        type: buf[at + 3]!,
        seq: buf.readUInt32BE(at + 8),
        flags: buf.readUInt16BE(at + 12),
        body: buf.subarray(at + HEADER_SIZE, at + HEADER_SIZE + length),
      });
      at += HEADER_SIZE + length;
    }
    this.pending = at === buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(at));
    buf = this.pending;
    return frames;
  }

  /** Bytes held of an incomplete frame. */
  get buffered(): number {
    return this.pending.length;
  }
}
