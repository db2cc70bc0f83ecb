import { describe, expect, it } from 'vitest';
import {
  encodeMessage,
  Inbound,
  MessageType,
  UnplaceableReturnError,
  type Message,
  type ReturnBody,
} from '../../../appliance/src/link/index.js';
import { ret } from './fixtures.js';

/**
 * What the link accepts of a Return. Only HBXH places a row in NQHB.DBF, so only HBXH can make
 * a return unwritable; every other field, of any type, goes through to the return sink, which
 * writes what fits and keeps the raw value (dbf/return-fit.ts). Refusing the frame for those made
 * the main station resend it after every logon and no return was written for the rest of the day.
 */

const asReturn = (body: Record<string, unknown>): Message => ({
  type: MessageType.Return,
  body: body as unknown as ReturnBody,
});

/** Frames 1..n of `bodies`, in one chunk, through a fresh Inbound. */
function receive(...bodies: Record<string, unknown>[]): ReturnType<Inbound['push']> {
  const chunk = Buffer.concat(bodies.map((b, i) => encodeMessage(asReturn(b), i + 1)));
  return new Inbound().push(chunk);
}

const good = (n: number): Record<string, unknown> => ({ ...ret(n) });

describe('Inbound: a Return the sink must judge is passed through, not refused', () => {
  it.each<[string, unknown]>([
    ['JYDY', 729900],
    ['JYDY', undefined],
    ['LSH', { x: 1 }],
    ['LSH', null],
    ['HBLB', '9'],
    ['HBLB', 2],
    ['HBLB', undefined],
    ['CJJG', 'abc'],
    ['HBRQ', ['2026']],
    ['recNo', 'x'],
  ])('%s = %j: delivered as sent, with the returns after it', (field, value) => {
    const odd = { ...good(2), [field]: value };
    if (value === undefined) delete odd[field];
    const { messages, error } = receive(good(1), odd, good(3));
    expect(error).toBeNull();
    expect(messages.map((m) => (m.body as ReturnBody).HBXH)).toEqual([1, 2, 3]);
    expect((messages[1]!.body as unknown as Record<string, unknown>)[field]).toEqual(value);
  });
});

describe('Inbound: a Return whose HBXH cannot be placed', () => {
  it.each<[string, unknown]>([
    ['zero', 0],
    ['negative', -3],
    ['a fraction', 1.5],
    ['a string', '2'],
    ['missing', undefined],
    ['null', null],
    ['wider than N(12,0)', 1_000_000_000_000],
  ])('%s (%j) is a protocol error NQ542 that says to call the main station', (_what, value) => {
    const bad = { ...good(2), HBXH: value };
    if (value === undefined) delete bad.HBXH;
    const { messages, error } = receive(good(1), bad, good(3));
    // The rows before it are delivered (written and acknowledged); the link drops at it.
    expect(messages.map((m) => (m.body as ReturnBody).HBXH)).toEqual([1]);
    expect(error).toBeInstanceOf(UnplaceableReturnError);
    expect((error as UnplaceableReturnError).code).toBe('NQ542');
    expect(error!.message).toContain('请致电主站');
    expect(error!.message).toContain('HBXH');
  });

  it('shows the raw HBXH in one short line without control characters', () => {
    const { error } = receive({ ...good(1), HBXH: `1\n\u001b[31m${'9'.repeat(200)}` });
    expect(error!.message).not.toMatch(/[\u0000-\u001f]/);
    expect(error!.message.length).toBeLessThan(200);
    expect(error!.message).toContain('"1\\n\\u001b[31m');
  });

  it('the largest HBXH the file can hold passes', () => {
    const { messages, error } = receive({ ...good(1), HBXH: 999_999_999_999 });
    expect(error).toBeNull();
    expect(messages).toHaveLength(1);
  });
});
