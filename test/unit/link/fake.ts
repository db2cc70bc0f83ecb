import { EventEmitter } from 'node:events';
import {
  FrameDecoder,
  decodeMessage,
  encodeMessage,
  LinkClient,
  MessageType,
  type LinkClientOptions,
  type LinkConnection,
  type LinkLogLine,
  type LinkState,
  type Message,
} from '../../../appliance/src/link/index.js';
import type { ServerAddress } from '../../../appliance/src/config/index.js';

/** An in-memory LinkConnection: records what the session writes, lets a test play the main station. */
export class FakeConnection extends EventEmitter implements LinkConnection {
  readonly written: Buffer[] = [];
  writeResult = true;
  ended = false;
  destroyed = false;
  peer?: string;
  private serverSeq = 1;

  constructor(readonly server: ServerAddress) {
    super();
  }

  write(data: Buffer): boolean {
    this.written.push(data);
    return this.writeResult;
  }

  end(): void {
    this.ended = true;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.emit('close');
  }

  /** Every frame the session wrote, decoded, with its header fields. */
  sent(): (Message & { seq: number; flags: number })[] {
    const dec = new FrameDecoder();
    return dec
      .push(Buffer.concat(this.written))
      .map((f) => ({ ...decodeMessage(f), seq: f.seq, flags: f.flags }));
  }

  sentOf(type: MessageType): (Message & { seq: number })[] {
    return this.sent().filter((m) => m.type === type);
  }

  /** Encode messages as the main station would (its own seq from 1), in one chunk. */
  encode(...msgs: Message[]): Buffer {
    return Buffer.concat(msgs.map((m) => encodeMessage(m, this.serverSeq++)));
  }

  /** Deliver messages to the session as ONE data chunk. */
  feed(...msgs: Message[]): void {
    this.emit('data', this.encode(...msgs));
  }

  feedRaw(chunk: Buffer): void {
    this.emit('data', chunk);
  }

  logonOk(marketState = 'OPEN'): void {
    this.feed({
      type: MessageType.LogonAnswer,
      body: { ok: true, tradingDate: '20260302', marketState, serverTime: 0 },
    });
  }
}

export const SERVERS: ServerAddress[] = [
  { host: '10.0.0.1', port: 7043, name: 'server1' },
  { host: '10.0.0.2', port: 7043, name: 'server2' },
  { host: '10.0.0.3', port: 7043, name: 'server3' },
];

export const LINK = {
  heartbeatMs: 10_000,
  silenceMs: 20_000,
  connectTimeoutMs: 5_000,
  backoffInitialMs: 500,
  backoffMaxMs: 10_000,
  primaryRetryS: 300,
  // Long, so that the other tests' unanswered orders do not end their sessions; stall tests set it.
  answerTimeoutMs: 60_000,
};

export interface Harness {
  client: LinkClient;
  /** Every connection made, in order. */
  conns: FakeConnection[];
  /** Index of the server of each connect() call. */
  dialled: number[];
  states: LinkState[];
  logs: LinkLogLine[];
  /** The latest connection. */
  conn(): FakeConnection;
  /** How connect() answers: a connection (default) or an error. */
  behaviour: (server: ServerAddress) => 'ok' | Error | 'hang';
  lastReturnSeq: number;
}

/** Every harness made and not yet stopped by stopHarnesses(). */
const live = new Set<Harness>();

/** Stops every harness made since the last call: a test's afterEach, whatever the test left running. */
export async function stopHarnesses(): Promise<void> {
  const all = [...live];
  live.clear();
  await Promise.all(all.map((h) => h.client.stop()));
}

/** A LinkClient over fake connections; use with vi.useFakeTimers(). */
export function harness(over: Partial<LinkClientOptions> = {}): Harness {
  const h: Harness = {
    conns: [],
    dialled: [],
    states: [],
    logs: [],
    behaviour: () => 'ok',
    lastReturnSeq: 0,
    conn(): FakeConnection {
      const c = h.conns[h.conns.length - 1];
      if (!c) throw new Error('no connection yet');
      return c;
    },
    client: undefined as unknown as LinkClient,
  };
  h.client = new LinkClient({
    station: 'W888888T',
    units: ['729900', '729901'],
    auth: 'file',
    servers: SERVERS,
    link: LINK,
    serverName: 'mainstation',
    credentials: { describe: () => 'fake', secureContextOptions: () => Promise.resolve({}) },
    random: () => 0.5,
    lastReturnSeq: () => h.lastReturnSeq,
    tradingDate: () => '20260302',
    sendBlockWarnMs: 15_000,
    connect: (server, signal) => {
      h.dialled.push(SERVERS.findIndex((s) => s.host === server.host));
      const b = h.behaviour(server);
      if (b instanceof Error) return Promise.reject(b);
      if (b === 'hang') {
        return new Promise((_resolve, reject) =>
          signal.addEventListener('abort', () => reject(new Error('aborted'))),
        );
      }
      const c = new FakeConnection(server);
      c.peer = 'CN=mainstation, O=NEEQ';
      h.conns.push(c);
      return Promise.resolve(c);
    },
    ...over,
  });
  h.client.on('state', (s) => h.states.push(s));
  h.client.on('log', (l) => h.logs.push(l));
  live.add(h);
  return h;
}
