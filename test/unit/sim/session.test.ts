import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FrameDecoder } from '../../../appliance/src/link/frame.js';
import {
  decodeMessage,
  encodeMessage,
  MessageType,
  type Message,
} from '../../../appliance/src/link/messages.js';
import {
  isSilent,
  parseSimConfig,
  SimSession,
  SimStore,
  type SessionHost,
  type Transport,
} from '../../../appliance/src/sim/index.js';
import { waitUntil } from '../../helpers/process.js';

const NOW = Date.UTC(2026, 10, 23, 2, 0, 0); // 10:00 CST
const DAY = '20261123';

class FakeTransport implements Transport {
  readonly decoder = new FrameDecoder();
  readonly got: Message[] = [];
  ended = false;
  destroyed = false;
  constructor(readonly peerCn: string | undefined) {}
  readonly remote = 'fake:1';
  write(data: Buffer): void {
    for (const f of this.decoder.push(data)) this.got.push(decodeMessage(f));
  }
  end(): void {
    this.ended = true;
  }
  destroy(): void {
    this.destroyed = true;
  }
  pause(): void {}
  resume(): void {}
}

const config = parseSimConfig(
  `[server]\nca=a\ncert=b\nkey=c\nfill_rule=confirm\n[station.W888888T]\nunits=729900\n`,
  '/x/sim.ini',
);

describe('SimSession over a fake transport', () => {
  let dir = '';
  let store: SimStore;
  let host: SessionHost;
  const lines: string[] = [];
  const live = new Map<string, SimSession>();
  const sessions: SimSession[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'simsess-'));
    store = await SimStore.open(dir);
    host = {
      config,
      store,
      clock: { now: () => NOW },
      monotonic: () => performance.now(),
      log: (who, text) => lines.push(`${who} ${text}`),
      claim: (st, s) => {
        if ((live.get(st) ?? s) !== s) return false;
        live.set(st, s);
        return true;
      },
      release: (st, s) => void (live.get(st) === s && live.delete(st)),
    };
  });
  afterEach(async () => {
    for (const s of sessions) s.onClose();
    live.clear();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  function open(cn = 'W888888T'): { t: FakeTransport; s: SimSession; seq: { n: number } } {
    const t = new FakeTransport(cn);
    const s = new SimSession(t, host);
    sessions.push(s);
    return { t, s, seq: { n: 0 } };
  }
  const feed = (x: { s: SimSession; seq: { n: number } }, ...msgs: Message[]): void =>
    x.s.onData(Buffer.concat(msgs.map((m) => encodeMessage(m, ++x.seq.n))));
  /** Until the session has answered `count` messages (the store commit is a real fsync: no guessed wait). */
  const answered = (x: { t: FakeTransport }, count: number): Promise<unknown> =>
    waitUntil(() => x.t.got.length >= count, `${count} answers from the simulator session`);
  const logon: Message = {
    type: MessageType.Logon,
    body: {
      station: 'W888888T',
      units: ['729900'],
      lastReturnSeq: 0,
      auth: 'ekey',
      tradingDate: DAY,
      software: 't',
    },
  };
  const order = (LSH: string): Message => ({
    type: MessageType.Order,
    possDup: false,
    body: {
      JYDY: '729900',
      WTRQ: DAY,
      WTSJ: '100000',
      LSH,
      GDDM: 'A1',
      ZQDM: '430001',
      YWLB: '0B',
      WTJG: 1,
      WTSL: 100,
      DFXW: '',
      DFGD: '',
      YDH: '',
      CDLSH: '',
      BZ: '',
      recNo: 1,
    },
  });

  it('answers a logon and orders in one chunk, after the store commit, with rising frame numbers', async () => {
    const x = open();
    feed(x, logon, order('1'), order('2'), { ...order('1'), possDup: true } as Message);
    expect(x.t.got).toEqual([]); // nothing before the commit
    await answered(x, 7);
    expect(x.t.got.map((m) => m.type)).toEqual([
      MessageType.LogonAnswer,
      MessageType.MarketState,
      MessageType.OrderAnswer,
      MessageType.Return,
      MessageType.OrderAnswer,
      MessageType.Return,
      MessageType.OrderAnswer,
    ]);
    expect(x.t.got[6]!.body).toMatchObject({ status: 'duplicate' });
    expect(store.day('W888888T', DAY).returns).toHaveLength(2);
  });

  it('refuses a wrong certificate and ignores what follows in the chunk', async () => {
    const x = open('W000000X');
    feed(x, logon, order('1'));
    await answered(x, 1);
    // What follows the refused logon in the chunk is ignored: still one answer once the link ended.
    expect(x.t.ended).toBe(true);
    expect(x.t.got).toHaveLength(1);
    expect(x.t.got[0]!.body).toMatchObject({ ok: false, code: 'CERT' });
    expect(x.t.ended).toBe(true);
    expect(store.day('W888888T', DAY).taken).toHaveLength(0);
  });

  it('drops the link on a broken frame', () => {
    const x = open();
    x.s.onData(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    expect(x.t.destroyed).toBe(true);
    expect(lines.some((l) => l.includes('protocol error'))).toBe(true);
  });

  it('isSilent is a pure function of now and the last time heard', () => {
    expect(isSilent(1000, 0, 30_000)).toBe(false);
    expect(isSilent(30_000, 0, 30_000)).toBe(true);
  });
});
