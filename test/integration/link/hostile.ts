/**
 * A hostile main station: the test double of the main station (which cannot run here) with the
 * same wire interface, speaking through the link's own frame and message encoders over real TLS
 * on loopback with a client certificate. Each instance misbehaves in one chosen way, as main
 * stations were seen to in the lab:
 *
 *   'normal'      answers the logon and every order (the server to fail over to)
 *   'drip'        after the logon, a Notice's header, then its body one byte every `dripMs`
 *   'big-frame'   after the logon, a header announcing a 1 MiB body
 *   'mute-orders' heartbeats every `heartbeatMs` but never answers an order
 *   'quit'        accepts the logon and sends Quit at once
 *
 * Everything it opens is closed by close(): server, sockets, timers.
 */
import type * as net from 'node:net';
import * as tls from 'node:tls';
import { readFileSync } from 'node:fs';
import {
  decodeMessage,
  encodeMessage,
  FrameDecoder,
  HEADER_SIZE,
  MessageType,
  type LogonBody,
  type Message,
  type OrderBody,
} from '../../../appliance/src/link/index.js';
import type { ServerAddress } from '../../../appliance/src/config/index.js';

export type Behaviour = 'normal' | 'drip' | 'big-frame' | 'mute-orders' | 'quit';

export interface HostileOptions {
  behaviour: Behaviour;
  name: string;
  /** 'drip': one byte every this many ms. */
  dripMs?: number;
  /** 'mute-orders' (and 'normal'): send a heartbeat this often. */
  heartbeatMs?: number;
}

/** The main station's certificate and key, and the CA its clients' certificates must chain to. */
export interface StationPki {
  ca: string;
  serverCert: string;
  serverKey: string;
}

export interface ReceivedOrder {
  body: OrderBody;
  possDup: boolean;
}

export class HostileStation {
  readonly address: ServerAddress;
  /** Times (Date.now()) of the logons answered. */
  readonly logons: number[] = [];
  readonly orders: ReceivedOrder[] = [];
  private server: tls.Server | null = null;
  private readonly sockets = new Set<tls.TLSSocket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly listeners = new Set<() => void>();

  constructor(
    private readonly pki: StationPki,
    private readonly opts: HostileOptions,
  ) {
    this.address = { host: '127.0.0.1', port: 0, name: opts.name };
  }

  async start(): Promise<this> {
    const server = tls.createServer(
      {
        key: readFileSync(this.pki.serverKey),
        cert: readFileSync(this.pki.serverCert),
        ca: readFileSync(this.pki.ca),
        requestCert: true,
        rejectUnauthorized: true,
        minVersion: 'TLSv1.2',
      },
      (socket) => this.onSocket(socket),
    );
    server.on('tlsClientError', () => undefined);
    this.server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.address.port = (server.address() as net.AddressInfo).port;
    return this;
  }

  /** Resolves once `test()` holds, re-checked at every logon and order (no polling). */
  until(test: () => boolean): Promise<void> {
    if (test()) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const check = (): void => {
        if (!test()) return;
        this.listeners.delete(check);
        resolve();
      };
      this.listeners.add(check);
    });
  }

  async close(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers.clear();
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = null;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }

  private every(ms: number, fn: () => void, socket: tls.TLSSocket): void {
    const t = setInterval(fn, ms);
    this.timers.add(t);
    socket.on('close', () => {
      clearInterval(t);
      this.timers.delete(t);
    });
  }

  private onSocket(socket: tls.TLSSocket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    const dec = new FrameDecoder();
    let seq = 1;
    const send = (msg: Message): void => {
      if (!socket.destroyed) socket.write(encodeMessage(msg, seq++));
    };
    socket.on('data', (chunk: Buffer) => {
      let frames;
      try {
        frames = dec.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      for (const frame of frames) {
        const msg = decodeMessage(frame);
        if (msg.type === MessageType.Logon) this.onLogon(socket, msg.body, send, () => seq++);
        else if (msg.type === MessageType.Order) {
          this.orders.push({ body: msg.body, possDup: msg.possDup === true });
          if (this.opts.behaviour === 'normal') {
            send({
              type: MessageType.OrderAnswer,
              body: { JYDY: msg.body.JYDY, LSH: msg.body.LSH, status: 'taken' },
            });
          }
          this.notify();
        }
      }
    });
  }

  private onLogon(
    socket: tls.TLSSocket,
    logon: LogonBody,
    send: (m: Message) => void,
    nextSeq: () => number,
  ): void {
    this.logons.push(Date.now());
    send({
      type: MessageType.LogonAnswer,
      body: { ok: true, tradingDate: logon.tradingDate, marketState: 'OPEN', serverTime: Date.now() },
    });
    const { behaviour } = this.opts;
    const heartbeat = (): void => send({ type: MessageType.Heartbeat, body: {} });
    if (behaviour === 'normal' || behaviour === 'mute-orders') {
      this.every(this.opts.heartbeatMs ?? 200, heartbeat, socket);
    } else if (behaviour === 'quit') {
      send({ type: MessageType.Quit, body: { reason: 'go away' } });
      socket.end();
    } else if (behaviour === 'big-frame') {
      const header = encodeMessage({ type: MessageType.Notice, body: { text: '' } }, nextSeq()).subarray(
        0,
        HEADER_SIZE,
      );
      header.writeUInt32BE(1024 * 1024, 4);
      header.writeUInt16BE([...header.subarray(0, 14)].reduce((a, b) => a + b, 0) & 0xffff, 14);
      socket.write(header);
    } else {
      // 'drip': a Notice's header, then its body one byte at a time: bytes keep coming, the frame
      // never ends.
      const frame = encodeMessage({ type: MessageType.Notice, body: { text: 'x'.repeat(4096) } }, nextSeq());
      socket.write(frame.subarray(0, HEADER_SIZE));
      let at = HEADER_SIZE;
      this.every(
        this.opts.dripMs ?? 100,
        () => {
          if (at < frame.length) socket.write(frame.subarray(at, ++at));
        },
        socket,
      );
    }
    this.notify();
  }
}
