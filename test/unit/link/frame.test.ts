import { order } from './fixtures.js';
import { describe, expect, it } from 'vitest';
import {
  decodeMessage,
  encodeFrame,
  encodeMessage,
  encodeOrders,
  FLAG_POSS_DUP,
  FrameDecoder,
  FrameError,
  HEADER_SIZE,
  MAX_BODY,
  MessageType,
  writeHeader,
  type Frame,
  type Message,
} from '../../../appliance/src/link/index.js';

/** Deterministic PRNG (mulberry32) so a failing split is reproducible. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MESSAGES: Message[] = [
  { type: MessageType.Heartbeat, body: {} },
  { type: MessageType.Notice, body: { text: '主站特别提示: 今日系统维护' } },
  { type: MessageType.Order, body: order('0000000001', '备注'), possDup: true },
  { type: MessageType.Order, body: order('0000000002'), possDup: false },
  { type: MessageType.Quit, body: { reason: 'bye' } },
  { type: MessageType.MarketState, body: { state: 'OPEN' } },
];

function stream(): { bytes: Buffer; frames: Frame[] } {
  const frames: Frame[] = [];
  const parts = MESSAGES.map((m, i) => {
    const buf = encodeMessage(m, i + 1);
    frames.push({ type: m.type, seq: i + 1, flags: buf.readUInt16BE(12), body: buf.subarray(HEADER_SIZE) });
    return buf;
  });
  // An empty body is legal at the frame level.
  const empty = encodeFrame({ type: MessageType.Heartbeat, seq: 99, flags: 0, body: Buffer.alloc(0) });
  frames.push({ type: MessageType.Heartbeat, seq: 99, flags: 0, body: Buffer.alloc(0) });
  return { bytes: Buffer.concat([...parts, empty]), frames };
}

function decodeInChunks(bytes: Buffer, cuts: number[]): Frame[] {
  const dec = new FrameDecoder();
  const out: Frame[] = [];
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    out.push(...dec.push(bytes.subarray(at, cut)));
    at = cut;
  }
  expect(dec.buffered).toBe(0);
  return out;
}

const plain = (f: Frame): object => ({
  type: f.type,
  seq: f.seq,
  flags: f.flags,
  body: Buffer.from(f.body).toString('hex'),
});

describe('frame codec', () => {
  it('lays out the 16-byte header as documented', () => {
    const buf = encodeFrame({ type: 0x03, seq: 0x01020304, flags: FLAG_POSS_DUP, body: Buffer.from('{}') });
    expect(buf.length).toBe(HEADER_SIZE + 2);
    expect([...buf.subarray(0, 14)]).toEqual([0x4e, 0x51, 1, 3, 0, 0, 0, 2, 1, 2, 3, 4, 0, 1]);
    const sum = [...buf.subarray(0, 14)].reduce((a, b) => a + b, 0) & 0xffff;
    expect(buf.readUInt16BE(14)).toBe(sum);
  });

  it('decodes a stream cut at every single position', () => {
    const { bytes, frames } = stream();
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(decodeInChunks(bytes, [cut]).map(plain)).toEqual(frames.map(plain));
    }
  });

  it('decodes a stream cut into arbitrary chunks, byte by byte included', () => {
    const { bytes, frames } = stream();
    const oneByOne = Array.from({ length: bytes.length - 1 }, (_, i) => i + 1);
    expect(decodeInChunks(bytes, oneByOne).map(plain)).toEqual(frames.map(plain));
    const rnd = prng(20260302);
    for (let round = 0; round < 300; round++) {
      const n = 1 + Math.floor(rnd() * 12);
      const cuts = Array.from({ length: n }, () => Math.floor(rnd() * (bytes.length + 1))).sort(
        (a, b) => a - b,
      );
      expect(decodeInChunks(bytes, cuts).map(plain)).toEqual(frames.map(plain));
    }
  });

  it('holds a partial frame and reports how much it holds', () => {
    const buf = encodeMessage({ type: MessageType.Notice, body: { text: 'x' } }, 1);
    const dec = new FrameDecoder();
    expect(dec.push(buf.subarray(0, 10))).toEqual([]);
    expect(dec.buffered).toBe(10);
    expect(dec.push(buf.subarray(10, 20))).toEqual([]);
    expect(dec.buffered).toBe(20);
    expect(dec.push(buf.subarray(20))).toHaveLength(1);
    expect(dec.buffered).toBe(0);
  });

  it('refuses a bad magic, version, checksum or length', () => {
    const good = encodeMessage({ type: MessageType.Heartbeat, body: {} }, 1);
    const corrupt = (at: number, value: number): Buffer => {
      const b = Buffer.from(good);
      b[at] = value;
      return b;
    };
    expect(() => new FrameDecoder().push(corrupt(0, 0x00))).toThrow(/bad magic/);
    expect(() => new FrameDecoder().push(corrupt(2, 2))).toThrow(/version/);
    expect(() => new FrameDecoder().push(corrupt(9, 0x55))).toThrow(/checksum/);
    const long = Buffer.alloc(HEADER_SIZE);
    writeHeader(long, 0, MessageType.Notice, 0, 1, 0);
    long.writeUInt32BE(MAX_BODY + 1, 4);
    long.writeUInt16BE([...long.subarray(0, 14)].reduce((a, b) => a + b, 0) & 0xffff, 14);
    expect(() => new FrameDecoder().push(long)).toThrow(FrameError);
    expect(() => encodeFrame({ type: 1, seq: 1, flags: 0, body: Buffer.alloc(MAX_BODY + 1) })).toThrow(
      FrameError,
    );
    const err = new FrameError('x');
    expect(err.code).toBe('NQ390');
  });

  it('refuses an unknown type and a body that is not a JSON object', () => {
    const frame = (type: number, body: string): Frame => ({
      type,
      seq: 1,
      flags: 0,
      body: Buffer.from(body),
    });
    expect(() => decodeMessage(frame(0x7f, '{}'))).toThrow(/unknown message type/);
    expect(() => decodeMessage(frame(MessageType.Notice, '{'))).toThrow(/not JSON/);
    expect(() => decodeMessage(frame(MessageType.Notice, '[1]'))).toThrow(/not an object/);
    expect(() => decodeMessage(frame(MessageType.Notice, 'null'))).toThrow(/not an object/);
  });

  it('carries the possible-duplicate flag on orders only', () => {
    const dup = encodeMessage({ type: MessageType.Order, body: order('1'), possDup: true }, 5);
    expect(dup.readUInt16BE(12)).toBe(FLAG_POSS_DUP);
    const [f] = new FrameDecoder().push(dup);
    expect(decodeMessage(f!)).toMatchObject({ type: MessageType.Order, possDup: true });
    const plainOrder = encodeMessage({ type: MessageType.Order, body: order('1') }, 6);
    expect(decodeMessage(new FrameDecoder().push(plainOrder)[0]!)).toMatchObject({ possDup: false });
  });

  it('encodes a batch of orders byte for byte like one encodeMessage per order', () => {
    const orders = Array.from({ length: 50 }, (_, i) => ({
      body: order(String(i), i % 3 === 0 ? '中文备注' : ''),
      possDup: i % 4 === 0,
    }));
    const batch = encodeOrders(orders, 7);
    const oneByOne = Buffer.concat(
      orders.map((o, i) =>
        encodeMessage({ type: MessageType.Order, body: o.body, possDup: o.possDup }, 7 + i),
      ),
    );
    expect(batch.equals(oneByOne)).toBe(true);
    expect(encodeOrders([], 1).length).toBe(0);
  });
});
