/**
 * A tiny gateway stand-in for the simulator's tests: real TLS, the link codec, a queue of what
 * came in and waits with time limits. Not the gateway's client (that one lives in link/).
 */
import { readFileSync } from 'node:fs';
import { connect, type TLSSocket } from 'node:tls';
import { FrameDecoder } from '../../../appliance/src/link/frame.js';
import {
  decodeMessage,
  encodeMessage,
  MessageType,
  type LogonAnswerBody,
  type LogonBody,
  type Message,
  type OrderBody,
  type ReturnBody,
} from '../../../appliance/src/link/messages.js';

export interface ClientOptions {
  port: number;
  ca: string;
  cert: string;
  key: string;
}

type Waiter = { resolve: (m: Message) => void };

/** A FIFO with O(1) take, for bursts of tens of thousands of messages. */
class Fifo<T> {
  private items: T[] = [];
  private head = 0;
  push(item: T): void {
    this.items.push(item);
  }
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
  remove(item: T): void {
    const i = this.items.indexOf(item, this.head);
    if (i >= 0) this.items.splice(i, 1);
  }
  values(): T[] {
    return this.items.slice(this.head);
  }
}

export class TestClient {
  /** Everything received, in order (heartbeats included). */
  readonly received: Message[] = [];
  /** Date.now() when each of `received` arrived. */
  readonly receivedAt: number[] = [];
  /** Received and not yet taken by next()/take(), by message type. */
  private readonly queues = new Map<MessageType, Fifo<Message>>();
  private readonly waiters = new Map<MessageType, Fifo<Waiter>>();
  private seq = 0;
  private readonly decoder = new FrameDecoder();
  readonly closed: Promise<void>;
  isClosed = false;

  private constructor(readonly socket: TLSSocket) {
    socket.on('data', (chunk: Buffer) => {
      for (const frame of this.decoder.push(chunk)) this.deliver(decodeMessage(frame));
    });
    this.closed = new Promise((resolve) => {
      socket.on('close', () => {
        this.isClosed = true;
        resolve();
      });
    });
    socket.on('error', () => undefined);
  }

  static connect(opts: ClientOptions): Promise<TestClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({
        host: '127.0.0.1',
        port: opts.port,
        ca: readFileSync(opts.ca),
        cert: readFileSync(opts.cert),
        key: readFileSync(opts.key),
      });
      socket.once('secureConnect', () => {
        socket.off('error', reject);
        resolve(new TestClient(socket));
      });
      socket.once('error', reject);
    });
  }

  private fifo<T>(map: Map<MessageType, Fifo<T>>, type: MessageType): Fifo<T> {
    let q = map.get(type);
    if (!q) {
      q = new Fifo<T>();
      map.set(type, q);
    }
    return q;
  }

  private deliver(msg: Message): void {
    this.received.push(msg);
    this.receivedAt.push(Date.now());
    const waiter = this.waiters.get(msg.type)?.shift();
    if (waiter) waiter.resolve(msg);
    else this.fifo(this.queues, msg.type).push(msg);
  }

  send(msg: Message): void {
    this.socket.write(encodeMessage(msg, ++this.seq));
  }

  logon(
    station: string,
    units: string[],
    lastReturnSeq = 0,
    auth: LogonBody['auth'] = 'ekey',
    tradingDate = '',
  ): void {
    this.send({
      type: MessageType.Logon,
      body: { station, units, lastReturnSeq, auth, tradingDate, software: 'sim-test-client' },
    });
  }

  order(body: OrderBody, possDup = false): void {
    this.send({ type: MessageType.Order, body, possDup });
  }

  /** The next message of `type` (others stay queued); heartbeats are only returned when asked for. */
  next<T extends MessageType>(type: T, timeoutMs = 5000): Promise<Extract<Message, { type: T }>> {
    const queued = this.queues.get(type)?.shift();
    if (queued) return Promise.resolve(queued as Extract<Message, { type: T }>);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        resolve: (m) => (clearTimeout(timer), resolve(m as Extract<Message, { type: T }>)),
      };
      const timer = setTimeout(() => {
        this.waiters.get(type)?.remove(waiter);
        reject(new Error(`no message of type ${MessageType[type]} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.fifo(this.waiters, type).push(waiter);
    });
  }

  async take<T extends MessageType>(
    type: T,
    n: number,
    timeoutMs = 5000,
  ): Promise<Extract<Message, { type: T }>[]> {
    const out: Extract<Message, { type: T }>[] = [];
    for (let i = 0; i < n; i++) out.push(await this.next(type, timeoutMs));
    return out;
  }

  async returns(n: number, timeoutMs = 5000): Promise<ReturnBody[]> {
    return (await this.take(MessageType.Return, n, timeoutMs)).map((m) => m.body);
  }

  /** Messages still queued, heartbeats left out. */
  pending(): Message[] {
    const out: Message[] = [];
    for (const [type, q] of this.queues) if (type !== MessageType.Heartbeat) out.push(...q.values());
    return out;
  }

  /** Log on and wait for the answer. */
  async logonAndWait(
    station: string,
    units: string[],
    lastReturnSeq = 0,
    auth: LogonBody['auth'] = 'ekey',
  ): Promise<LogonAnswerBody> {
    this.logon(station, units, lastReturnSeq, auth);
    return (await this.next(MessageType.LogonAnswer)).body;
  }

  /** Wait until the server closes, or fail after timeoutMs. */
  async waitClosed(timeoutMs = 5000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`still open after ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.closed, limit]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): Promise<void> {
    this.socket.destroy();
    return this.closed;
  }
}

let defaultSerial = 0;

/** An order with sensible defaults for `day`. */
export function makeOrder(day: string, fields: Partial<OrderBody> = {}): OrderBody {
  defaultSerial++;
  return {
    JYDY: '729900',
    WTRQ: day,
    WTSJ: '100000',
    LSH: String(defaultSerial),
    GDDM: '0099887766',
    ZQDM: '430001',
    YWLB: '0B',
    WTJG: 12.5,
    WTSL: 1000,
    DFXW: '',
    DFGD: '',
    YDH: '',
    CDLSH: '',
    BZ: '',
    recNo: defaultSerial,
    ...fields,
  };
}
