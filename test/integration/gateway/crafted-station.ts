import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as tls from 'node:tls';
import type { LabDescription } from '../../../appliance/src/lab/index.js';
import {
  decodeMessage,
  encodeMessage,
  FrameDecoder,
  MessageType,
  type LogonBody,
  type ReturnBody,
} from '../../../appliance/src/link/index.js';
import { returnRow } from '../../helpers/returns.js';

/**
 * A main station that sends what a test tells it to, over real TLS on loopback with the lab's
 * certificates, framed by the link's own encoder. It keeps every return it was given (HBXH
 * 1..N) and, like the real one, resends from the lastReturnSeq of each logon. `returnsAfter`
 * lets a test send something else at a logon (a sequence with a gap, for instance).
 */
export class CraftedStation {
  readonly logons: { at: number; body: LogonBody }[] = [];
  readonly returns: Record<string, unknown>[] = [];
  maxAck = 0;
  returnsAfter: ((lastReturnSeq: number) => Record<string, unknown>[]) | null = null;
  private server: tls.Server | null = null;
  private socket: tls.TLSSocket | null = null;
  private seq = 1;
  private beat: NodeJS.Timeout | null = null;

  constructor(private readonly lab: LabDescription) {}

  async start(): Promise<number> {
    const pki = this.lab.pki;
    this.server = tls.createServer(
      {
        key: readFileSync(pki.serverKey),
        cert: readFileSync(pki.serverCert),
        ca: readFileSync(pki.caCert),
        requestCert: true,
        rejectUnauthorized: true,
      },
      (socket) => this.accept(socket),
    );
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    // The gateway's silence limit is 20 s in the lab; a heartbeat a second keeps any test alive.
    this.beat = setInterval(() => this.send({ type: MessageType.Heartbeat, body: {} }), 1000);
    return (this.server.address() as AddressInfo).port;
  }

  /** Adds returns (numbered on from the last) and sends them on the current session. */
  add(rows: Record<string, unknown>[]): void {
    for (const r of rows) {
      const row = { ...r, HBXH: this.returns.length + 1 };
      this.returns.push(row);
      this.sendReturn(row);
    }
  }

  async stop(): Promise<void> {
    if (this.beat) clearInterval(this.beat);
    this.socket?.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private accept(socket: tls.TLSSocket): void {
    this.socket?.destroy();
    this.socket = socket;
    this.seq = 1;
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (this.socket === socket) this.socket = null;
    });
    const decoder = new FrameDecoder();
    socket.on('data', (chunk: Buffer) => {
      for (const frame of decoder.push(chunk)) {
        const msg = decodeMessage(frame);
        if (msg.type === MessageType.Logon) this.logon(msg.body);
        else if (msg.type === MessageType.ReturnAck) this.maxAck = Math.max(this.maxAck, msg.body.HBXH);
      }
    });
  }

  private logon(body: LogonBody): void {
    this.logons.push({ at: Date.now(), body });
    this.send({
      type: MessageType.LogonAnswer,
      body: { ok: true, tradingDate: body.tradingDate, marketState: 'OPEN', serverTime: Date.now() },
    });
    const rows = this.returnsAfter
      ? this.returnsAfter(body.lastReturnSeq)
      : this.returns.slice(body.lastReturnSeq);
    for (const row of rows) this.sendReturn(row);
  }

  private sendReturn(row: Record<string, unknown>): void {
    // Crafted on purpose: the body is whatever the test made, typed or not.
    this.send({ type: MessageType.Return, body: row as unknown as ReturnBody });
  }

  private send(msg: Parameters<typeof encodeMessage>[0]): void {
    const s = this.socket;
    if (!s || s.destroyed) return;
    s.write(encodeMessage(msg, this.seq++));
  }
}

/** A well-formed confirmation of unit 729900 dated `date`, HBXH given by the station. */
export function confirmation(
  date: string,
  lsh: number,
  over: Record<string, unknown> = {},
): Record<string, unknown> {
  const { HBXH: _givenByTheStation, ...row } = returnRow(lsh, { HBRQ: date });
  return { ...row, ...over };
}
