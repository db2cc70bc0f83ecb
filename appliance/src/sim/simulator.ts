/**
 * The main-station simulator: a TLS server that asks every client for a certificate signed by
 * the configured CA, one SimSession per connection, the state store, and the admin API.
 * start() opens everything, stop() releases everything (sockets, timers, the state log).
 */
import { readFile } from 'node:fs/promises';
import type { Server as HttpServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { cstClock, cstDate, systemClock, type Clock } from '../shared/index.js';
import { createAdminServer, type AdminTarget, type FaultKind, type StationReport } from './admin.js';
import type { SimConfig } from './config.js';
import { SimSession, type LogonInfo, type SessionHost } from './session.js';
import { SimStore } from './store.js';
import { tlsTransport } from './transport.js';

export interface SimulatorOptions {
  /** Calendar time: trading date, HBRQ/HBSJ (default: the system clock). */
  clock?: Clock;
  /** Where log lines go (default: stdout, one line each). */
  log?: (line: string) => void;
  /** Monotonic milliseconds for liveness (default: performance.now). */
  monotonic?: () => number;
}

function listen(server: TlsServer | HttpServer, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function closeServer(server: TlsServer | HttpServer | undefined): Promise<void> {
  return new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));
}

export class MainStationSimulator implements SessionHost, AdminTarget {
  readonly clock: Clock;
  private readonly logLine: (line: string) => void;
  private readonly mono: () => number;
  private storeRef: SimStore | undefined;
  private tls: TlsServer | undefined;
  private admin: HttpServer | undefined;
  private readonly sessions = new Set<SimSession>();
  private readonly live = new Map<string, SimSession>();
  /** Last accepted logon per station, kept after it disconnects (memory only). */
  private readonly lastLogons = new Map<string, LogonInfo>();
  private readonly sockets = new Set<Socket>();

  constructor(
    readonly config: SimConfig,
    opts: SimulatorOptions = {},
  ) {
    this.clock = opts.clock ?? systemClock;
    this.logLine = opts.log ?? ((line) => void process.stdout.write(`${line}\n`));
    this.mono = opts.monotonic ?? (() => performance.now());
  }

  get store(): SimStore {
    if (!this.storeRef) throw new Error('simulator not started');
    return this.storeRef;
  }

  get port(): number {
    return (this.tls?.address() as AddressInfo | null)?.port ?? 0;
  }

  get adminPort(): number {
    return (this.admin?.address() as AddressInfo | null)?.port ?? 0;
  }

  async start(): Promise<void> {
    const [ca, cert, key] = await Promise.all([
      readFile(this.config.ca),
      readFile(this.config.cert),
      readFile(this.config.key),
    ]);
    this.storeRef = await SimStore.open(this.config.stateDir, this.config.market);
    this.tls = createTlsServer({
      ca,
      cert,
      key,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
    });
    this.tls.on('connection', (raw: Socket) => {
      this.sockets.add(raw);
      raw.once('close', () => this.sockets.delete(raw));
    });
    this.tls.on('secureConnection', (socket) => this.accept(socket));
    this.tls.on('tlsClientError', (err, socket) => {
      this.log(
        `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`,
        `TLS handshake failed: ${err.message}`,
      );
    });
    this.admin = createAdminServer(this);
    try {
      await listen(this.tls, this.config.listen.host, this.config.listen.port);
      await listen(this.admin, this.config.admin.host, this.config.admin.port);
    } catch (err) {
      await this.stop();
      throw err;
    }
    this.log(
      'sim',
      `listening on ${this.config.listen.host}:${this.port}, admin on ${this.config.admin.host}:${this.adminPort}`,
    );
  }

  async stop(): Promise<void> {
    for (const s of [...this.sessions]) s.close();
    for (const raw of this.sockets) raw.destroy();
    this.sockets.clear();
    this.sessions.clear();
    this.live.clear();
    this.admin?.closeAllConnections();
    await Promise.all([closeServer(this.tls), closeServer(this.admin)]);
    this.tls = undefined;
    this.admin = undefined;
    const store = this.storeRef;
    this.storeRef = undefined;
    await store?.close();
  }

  private accept(socket: TLSSocket): void {
    socket.setNoDelay(true);
    const session = new SimSession(tlsTransport(socket), this);
    this.sessions.add(session);
    socket.on('data', (chunk: Buffer) => session.onData(chunk));
    socket.on('error', (err) => this.log(session.station ?? 'sim', `socket error: ${err.message}`));
    socket.on('close', () => {
      session.onClose();
      this.sessions.delete(session);
    });
  }

  // ---- SessionHost ----

  monotonic(): number {
    return this.mono();
  }

  log(who: string, text: string): void {
    const now = this.clock.now();
    this.logLine(`${cstDate(now)} ${cstClock(now)} ${who} ${text}`);
  }

  claim(station: string, session: SimSession, logon: LogonInfo): boolean {
    const current = this.live.get(station);
    if (current && current !== session) return false;
    this.live.set(station, session);
    this.lastLogons.set(station, logon);
    return true;
  }

  release(station: string, session: SimSession): void {
    if (this.live.get(station) === session) this.live.delete(station);
  }

  // ---- AdminTarget ----

  today(): string {
    return cstDate(this.clock.now());
  }

  hasStation(id: string): boolean {
    return this.config.stations.has(id);
  }

  report(id: string, date: string): StationReport {
    const day = this.store.day(id, date);
    const session = this.live.get(id);
    return {
      connected: session !== undefined,
      ordersTaken: day.taken.length,
      duplicatesDropped: day.duplicatesDropped,
      rejected: day.rejected,
      returns: day.returns.length,
      lastAcked: day.lastAcked,
      lastLogon: this.lastLogons.get(id) ?? null,
    };
  }

  orders(id: string, date: string): { JYDY: string; LSH: string; possDup: boolean; recNo: number }[] {
    return this.store
      .day(id, date)
      .taken.map((o) => ({ JYDY: o.JYDY, LSH: o.LSH, possDup: o.possDup, recNo: o.recNo }));
  }

  returns(id: string, date: string): unknown[] {
    return this.store.day(id, date).returns.map((text) => JSON.parse(text) as unknown);
  }

  fault(kind: FaultKind, station: string, args: { ms?: number; text?: string }): boolean {
    const session = this.live.get(station);
    if (!session) return false;
    switch (kind) {
      case 'drop':
        this.log(station, 'fault: connection dropped');
        session.close();
        break;
      case 'silence':
        session.silence(args.ms ?? 1000);
        break;
      case 'notice':
        session.notice(args.text ?? '');
        break;
      case 'quit':
        session.quit(args.text ?? 'quit');
        break;
    }
    return true;
  }

  async suspend(code: string, on: boolean): Promise<void> {
    this.store.record({ k: 'susp', code, on });
    await this.store.commit();
    this.log('sim', `security ${code} ${on ? 'suspended' : 'resumed'}`);
  }

  async setMarket(state: string): Promise<void> {
    this.store.record({ k: 'mkt', state });
    await this.store.commit();
    for (const s of this.live.values()) s.marketState(state);
  }

  async enableSoft(station: string, date: string): Promise<void> {
    this.store.record({ k: 'soft', st: station, d: date });
    await this.store.commit();
    this.log(station, `soft encryption enabled for ${date}`);
  }
}
