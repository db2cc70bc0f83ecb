import dgram from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { preciseWallClock } from '../../../appliance/src/clock/index.js';

/**
 * A scripted SNTP server on loopback UDP. It answers with its clock shifted by exactly
 * `offsetMs`, or with one kind of bad reply, so the client's arithmetic and checks can be tested
 * to the millisecond (a real chronyd cannot be shifted by less than a second: the kernel's
 * receive timestamps are not faked by libfaketime).
 *
 * The packet is built here byte by byte, independently of appliance/src/clock/packet.ts, so a
 * mistake there is not mirrored here.
 */
export type ResponderMode =
  | 'normal'
  | 'wrong-originate'
  | 'stale-then-good'
  | 'unsynchronised'
  | 'kiss'
  | 'wrong-mode'
  | 'stratum16'
  | 'short'
  | 'silent';

export interface ResponderBehaviour {
  mode: ResponderMode;
  /** Server clock minus local clock, ms. */
  offsetMs: number;
  /** Kiss code for mode 'kiss'. */
  kissCode: string;
  stratum: number;
  /** Extra one-way delay on the request path (the T2 stamp waits this long): path asymmetry. */
  asymmetryMs: number;
  /** Time between the T2 and T3 stamps: the server's processing, which δ must exclude. */
  turnaroundMs: number;
  rootDelayMs: number;
  rootDispersionMs: number;
  /** log2 seconds. */
  precision: number;
}

const DEFAULTS: ResponderBehaviour = {
  mode: 'normal',
  offsetMs: 0,
  kissCode: 'RATE',
  stratum: 2,
  asymmetryMs: 0,
  turnaroundMs: 0,
  rootDelayMs: 0,
  rootDispersionMs: 0,
  precision: -20,
};

const NTP_EPOCH_OFFSET_S = 2_208_988_800;

function writeNtpTime(buf: Buffer, at: number, unixMs: number): void {
  const wholeS = Math.floor(unixMs / 1000);
  const fracMs = unixMs - wholeS * 1000;
  buf.writeUInt32BE((wholeS + NTP_EPOCH_OFFSET_S) >>> 0, at);
  buf.writeUInt32BE(Math.min(0xffffffff, Math.round((fracMs / 1000) * 0x1_0000_0000)), at + 4);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class SntpResponder {
  behaviour: ResponderBehaviour;
  /** Requests received. */
  requests = 0;
  #socket: dgram.Socket | null = null;
  /** The first answer that failed (nobody awaits an answer): stop() throws it, so the test sees it. */
  #failed: { err: unknown } | null = null;
  readonly #now: () => number;

  constructor(behaviour: Partial<ResponderBehaviour> = {}, now: () => number = () => preciseWallClock.now()) {
    this.behaviour = { ...DEFAULTS, ...behaviour };
    this.#now = now;
  }

  set(behaviour: Partial<ResponderBehaviour>): void {
    this.behaviour = { ...this.behaviour, ...behaviour };
  }

  get port(): number {
    if (!this.#socket) throw new Error('responder not started');
    return (this.#socket.address() as AddressInfo).port;
  }

  get server(): { host: string; port: number } {
    return { host: '127.0.0.1', port: this.port };
  }

  async start(): Promise<number> {
    const socket = dgram.createSocket('udp4');
    this.#socket = socket;
    socket.on('message', (msg, rinfo) => {
      this.requests += 1;
      this.#answer(msg, rinfo).catch((err: unknown) => (this.#failed ??= { err }));
    });
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
    return this.port;
  }

  async stop(): Promise<void> {
    const socket = this.#socket;
    this.#socket = null;
    if (socket) await new Promise<void>((resolve) => socket.close(() => resolve()));
    if (this.#failed) throw this.#failed.err;
  }

  async #answer(req: Buffer, rinfo: dgram.RemoteInfo): Promise<void> {
    const b = this.behaviour;
    if (b.mode === 'silent' || req.length < 48) return;
    if (b.asymmetryMs > 0) await sleep(b.asymmetryMs);
    const t2 = this.#now() + b.offsetMs;
    if (b.turnaroundMs > 0) await sleep(b.turnaroundMs);

    const reply = Buffer.alloc(48);
    const leap = b.mode === 'unsynchronised' ? 3 : 0;
    const mode = b.mode === 'wrong-mode' ? 5 : 4; // 5 = broadcast
    reply.writeUInt8((leap << 6) | (4 << 3) | mode, 0);
    const stratum = b.mode === 'kiss' ? 0 : b.mode === 'stratum16' ? 16 : b.stratum;
    reply.writeUInt8(stratum, 1);
    reply.writeInt8(6, 2);
    reply.writeInt8(b.precision, 3);
    reply.writeUInt32BE(Math.round((b.rootDelayMs / 1000) * 65536), 4);
    reply.writeUInt32BE(Math.round((b.rootDispersionMs / 1000) * 65536), 8);
    if (b.mode === 'kiss') reply.write(b.kissCode.padEnd(4, '\0').slice(0, 4), 12, 'ascii');
    else if (stratum === 1) reply.write('GPS\0', 12, 'ascii');
    else reply.writeUInt32BE(0xc0000201, 12); // 192.0.2.1: the upstream of a stratum-2 server
    writeNtpTime(reply, 16, t2 - 1000); // reference time: last "update" a second ago
    req.copy(reply, 24, 40, 48); // originate = the client's transmit timestamp
    if (b.mode === 'wrong-originate' || b.mode === 'stale-then-good') {
      reply.writeUInt32BE((reply.readUInt32BE(28) + 0x1000_0000) >>> 0, 28); // ~62 ms off
    }
    writeNtpTime(reply, 32, t2);
    writeNtpTime(reply, 40, this.#now() + b.offsetMs);
    const socket = this.#socket;
    if (!socket) return;
    const out = b.mode === 'short' ? reply.subarray(0, 40) : reply;
    socket.send(out, rinfo.port, rinfo.address);
    if (b.mode === 'stale-then-good') {
      // A stale duplicate first, then the real answer.
      const good = Buffer.from(reply);
      req.copy(good, 24, 40, 48);
      writeNtpTime(good, 40, this.#now() + b.offsetMs);
      socket.send(good, rinfo.port, rinfo.address);
    }
  }
}
