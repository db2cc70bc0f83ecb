import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  encodeFrame,
  FrameDecoder,
  FrameError,
  HEADER_SIZE,
  MAX_BODY,
  MessageType,
} from '../../../appliance/src/link/index.js';

/**
 * The decoder must do work proportional to the bytes it receives. Measured as the bytes it
 * ALLOCATES (every Buffer factory is counted), which holds whatever the implementation: the old
 * decoder concatenated its pending buffer with each chunk (quadratic: one 1 MiB frame in 64-byte
 * pieces allocated ~16 GiB and blocked the event loop for 6-9 s). No wall-clock threshold.
 */
function allocatedWhile(run: () => void): number {
  let bytes = 0;
  const count = (b: Buffer): Buffer => {
    bytes += b.length;
    return b;
  };
  const spies = (['concat', 'from', 'alloc', 'allocUnsafe', 'allocUnsafeSlow'] as const).map((name) => {
    const original = Buffer[name].bind(Buffer) as (...a: unknown[]) => Buffer;
    return vi.spyOn(Buffer, name).mockImplementation(((...a: unknown[]) => count(original(...a))) as never);
  });
  try {
    run();
  } finally {
    for (const s of spies) s.mockRestore();
  }
  return bytes;
}

/** A header announcing `length` bytes, written by hand (writeHeader refuses more than MAX_BODY). */
function rawHeader(type: number, length: number, seq: number): Buffer {
  const h = Buffer.alloc(HEADER_SIZE);
  h.set([0x4e, 0x51, 1, type]);
  h.writeUInt32BE(length, 4);
  h.writeUInt32BE(seq, 8);
  h.writeUInt16BE([...h.subarray(0, 14)].reduce((a, b) => a + b, 0) & 0xffff, 14);
  return h;
}

/** One Notice frame of `body` bytes (valid JSON), cut into `piece`-byte chunks. */
function pieces(body: number, piece: number): Buffer[] {
  const text = 'x'.repeat(body - '{"text":""}'.length);
  const json = Buffer.from(JSON.stringify({ text }));
  const frame = Buffer.concat([rawHeader(MessageType.Notice, json.length, 1), json]);
  const out: Buffer[] = [];
  for (let at = 0; at < frame.length; at += piece) out.push(frame.subarray(at, at + piece));
  return out;
}

function decodeAll(chunks: Buffer[], maxBody: number): { frames: number; allocated: number; copied: number } {
  const dec = new FrameDecoder({ maxBody });
  let frames = 0;
  const allocated = allocatedWhile(() => {
    for (const c of chunks) frames += dec.push(c).length;
  });
  expect(dec.buffered).toBe(0);
  return { frames, allocated, copied: dec.bytesCopied };
}

describe('FrameDecoder: linear in the bytes received', () => {
  afterEach(() => vi.restoreAllMocks());

  it('decodes one large frame arriving in 64-byte pieces with work proportional to its size', () => {
    const KiB = 1024;
    // Frames larger than the protocol's MAX_BODY, allowed here only to make the growth visible.
    const small = decodeAll(pieces(256 * KiB, 64), 2 * 1024 * KiB);
    const large = decodeAll(pieces(1024 * KiB, 64), 2 * 1024 * KiB);
    expect(small.frames).toBe(1);
    expect(large.frames).toBe(1);
    // Each byte is copied at most once (when the frame completes), plus at most one header.
    expect(large.copied).toBeLessThanOrEqual(1024 * KiB + 2 * HEADER_SIZE);
    expect(large.allocated).toBeLessThan(2 * 1024 * KiB);
    // 4x the bytes must cost about 4x the work; quadratic would be 16x.
    expect(large.allocated / small.allocated).toBeLessThan(6);
  });

  it('copies nothing for frames that arrive whole, however many share a chunk', () => {
    const one = encodeFrame({ type: MessageType.Heartbeat, seq: 1, flags: 0, body: Buffer.from('{}') });
    const many = Buffer.concat(Array.from({ length: 10_000 }, () => one));
    const dec = new FrameDecoder();
    expect(dec.push(many)).toHaveLength(10_000);
    expect(dec.bytesCopied).toBe(0);
  });

  it('refuses a header announcing more than MAX_BODY (64 KiB) before any of the body arrives', () => {
    expect(MAX_BODY).toBe(64 * 1024);
    const header = rawHeader(MessageType.Notice, 1024 * 1024, 1); // a "1 MiB notice", as a hostile main station sent
    const dec = new FrameDecoder();
    expect(() => dec.push(header)).toThrow(FrameError);
    expect(() => new FrameDecoder().push(header)).toThrow(/body length 1048576 exceeds 65536/);
  });
});
