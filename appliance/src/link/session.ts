import { EventEmitter } from 'node:events';
import { AppError, formatMessage, software, systemClock, type Clock } from '../shared/index.js';
import type { ServerAddress } from '../config/index.js';
import { ActiveSession, type Ending } from './active.js';
import { describeServer } from './errors.js';
import type { KeepaliveSettings } from './keepalive.js';
import { LinkLogger } from './log.js';
import type { LogonAnswerBody } from './messages.js';
import type { OutgoingOrder } from './outbound.js';
import { ServerList, type ReconnectReason } from './servers.js';
import { tlsConnector, type LinkConnection } from './transport.js';
import type { LinkClientOptions, LinkEvents, LinkState } from './types.js';
import { marketWords } from './text.js';

/** How often NQ308 is repeated while the send path stays blocked. */
export const SEND_BLOCK_REPEAT_MS = 5000;

const NEXT: Record<Ending['kind'], ReconnectReason> = {
  timeout: 'failure',
  error: 'failure',
  closed: 'failure',
  quit: 'quit',
  refused: 'refused',
  stalled: 'failure',
  operator: 'operator',
};

/**
 * The gateway's side of the main-station link: an explicit state machine (types.ts) over one
 * ActiveSession at a time, walking the server list (servers.ts). Sees the network only through
 * LinkConnection. Every timer it sets is cleared by stop(). Server indexes are 0-based (tw.ini's
 * server1 is index 0).
 */
export class LinkClient extends EventEmitter<LinkEvents> {
  private readonly clock: Clock;
  private readonly servers: ServerList;
  private readonly connector: (server: ServerAddress, signal: AbortSignal) => Promise<LinkConnection>;
  private readonly keepalive: KeepaliveSettings;
  private readonly logger = new LinkLogger(this);
  private st: LinkState = 'stopped';
  /** Bumped whenever a connect attempt is abandoned; its late callbacks compare and bail out. */
  private gen = 0;
  private active: ActiveSession | null = null;
  private abort: AbortController | null = null;
  private pending: Promise<unknown> | null = null;
  private connectTimer: NodeJS.Timeout | null = null;
  private backoffTimer: NodeJS.Timeout | null = null;
  /** Runs while a new session proves itself; when it fires the backoff starts again from zero. */
  private stableTimer: NodeJS.Timeout | null = null;
  /** Why connecting is held (the EKey is out); null when the client may connect. */
  private heldFor: string | null = null;
  /** Set when a session ended for unanswered orders (NQ320); see `stalled`. */
  private stalledFor: string | null = null;

  constructor(private readonly opts: LinkClientOptions) {
    super();
    this.clock = opts.clock ?? systemClock;
    this.servers = new ServerList({
      servers: opts.servers,
      backoffInitialMs: opts.link.backoffInitialMs,
      backoffMaxMs: opts.link.backoffMaxMs,
      primaryRetryS: opts.link.primaryRetryS,
      clock: this.clock,
      random: opts.random ?? Math.random,
    });
    this.connector =
      opts.connect ?? tlsConnector(opts.credentials, opts.serverName, opts.link.connectTimeoutMs);
    // The main station answers orders again: no longer stalled.
    this.on('orderAnswers', () => {
      this.stalledFor = null;
    });
    this.keepalive = {
      heartbeatMs: opts.link.heartbeatMs,
      silenceMs: opts.link.silenceMs,
      sendBlockWarnMs: opts.sendBlockWarnMs,
      sendBlockRepeatMs: SEND_BLOCK_REPEAT_MS,
    };
  }

  get state(): LinkState {
    return this.st;
  }

  /** The server connected to, being tried, or next in line; null when stopped. */
  get server(): ServerAddress | null {
    return this.st === 'stopped' ? null : this.servers.current;
  }

  /** 0-based index of `server` in the list (when stopped: where start() begins). */
  get serverIndex(): number {
    return this.servers.index;
  }

  /** Up, and the transport is not backed up. */
  get writable(): boolean {
    return this.st === 'up' && this.active !== null && this.active.writable;
  }

  start(): void {
    if (this.st !== 'stopped') return;
    this.servers.first();
    if (this.heldFor !== null) this.setState('backoff');
    else this.connectNow();
  }

  /**
   * Why the main station is considered stalled, or null: set when a session is given up for
   * orders it did not answer (NQ320), cleared by the next OrderAnswer on any session, or by a
   * session that stays up `stableAfterMs` with no order waiting for an answer. While set, the
   * gateway is not ready (/readyz), even between the reconnects of a stall on every server.
   */
  get stalled(): string | null {
    return this.stalledFor;
  }

  /** Why connecting is held, or null. */
  get held(): string | null {
    return this.heldFor;
  }

  /**
   * Stop connecting until release(): a live link is closed cleanly (Quit first), an attempt in
   * flight is abandoned, and the client waits in 'backoff' without a timer. Used while the
   * station's EKey is out: there is nothing to sign a handshake with, and orders wait in NQWT.DBF.
   */
  hold(reason: string): void {
    const first = this.heldFor === null;
    this.heldFor = reason;
    if (!first || this.st === 'stopped') return;
    this.logger.line('warn', undefined, `暂停连接主站: ${reason}`);
    this.drop(reason, true);
    this.setState('backoff');
  }

  /** End a hold(): connect at once (to the server in line), without waiting out a backoff. */
  release(reason: string): void {
    if (this.heldFor === null) return;
    this.heldFor = null;
    if (this.st === 'stopped') return;
    this.logger.line('info', undefined, `恢复连接主站: ${reason}`);
    this.drop(reason);
    this.connectNow();
  }

  /** Close everything; resolves when the connection has closed and no attempt is in flight. */
  async stop(): Promise<void> {
    if (this.st === 'stopped' && this.pending === null) return;
    const closing = this.teardown('stopped', true);
    this.setState('stopped');
    const pending = this.pending;
    this.pending = null;
    await Promise.all([closing, pending]);
  }

  /**
   * Send a batch of orders as ONE write. False (nothing sent) unless the link is up. True means
   * the bytes are queued on the transport; watch `writable` and 'drain' for back-pressure.
   */
  sendOrders(orders: readonly OutgoingOrder[]): boolean {
    if (this.st !== 'up' || this.active === null || !this.active.up) return false;
    this.active.sendOrders(orders);
    return true;
  }

  /** Tell the main station the return HBXH is durably in NQHB.DBF. False unless up. */
  ackReturn(seq: number): boolean {
    if (this.st !== 'up' || this.active === null) return false;
    return this.active.ackReturn(seq);
  }

  /** Operator: drop the current link and connect again to the same server, at once. */
  reconnect(reason: string): void {
    if (this.st === 'stopped') return;
    this.end({ kind: 'operator', text: reason });
  }

  /** Operator: connect to server `index` (0-based) now. When stopped, start() will begin there. */
  switchTo(index: number): void {
    if (this.st === 'stopped') {
      this.servers.switchTo(index);
      return;
    }
    if (!Number.isInteger(index) || index < 0 || index >= this.servers.length) {
      throw new RangeError(`no server ${index + 1}: the list has ${this.servers.length}`);
    }
    this.drop(`operator switched to server ${index + 1}`, true);
    const next = this.servers.switchTo(index);
    this.logger.line('info', undefined, `操作员切换到通信服务器 ${describeServer(next.server)}`);
    this.scheduleConnect(0);
  }

  // ---- connecting ----

  private connectNow(): void {
    const g = ++this.gen;
    const server = this.servers.current;
    this.setState('connecting');
    this.logger.vendor('info', 'NQ301_CONNECTING', {
      station: this.opts.station,
      server: describeServer(server),
    });
    const abort = new AbortController();
    this.abort = abort;
    this.connectTimer = setTimeout(() => {
      this.connectTimer = null;
      if (g !== this.gen) return;
      abort.abort();
      this.end({ kind: 'timeout', text: `connect to ${describeServer(server)} timed out` });
    }, this.opts.link.connectTimeoutMs);
    const pending = this.connector(server, abort.signal)
      .then(
        (conn) => this.onConnected(g, conn),
        (err: unknown) => this.onConnectFailed(g, err),
      )
      .finally(() => {
        if (this.pending === pending) this.pending = null;
      });
    this.pending = pending;
  }

  private onConnectFailed(g: number, err: unknown): void {
    if (g !== this.gen) return;
    const code = err instanceof AppError ? err.code : (err as { code?: string } | null)?.code;
    const text = err instanceof Error ? err.message : String(err);
    if (code === 'NQ303') this.end({ kind: 'timeout', text });
    else this.end({ kind: 'error', text, code });
  }

  private onConnected(g: number, conn: LinkConnection): void {
    if (g !== this.gen) {
      conn.destroy();
      return;
    }
    this.clearTimer('connectTimer');
    this.abort = null;
    // The vendor's order on the screen: the server's certificate, 小站端等待主站应答, then
    // 小站端与服务器连接成功, 等待主站应答. (the logon goes out next).
    if (conn.peer) this.logger.vendor('info', 'NQ310_SERVER_CERT', { text: conn.peer });
    this.logger.vendor('info', 'NQ254_WAITING_MAIN');
    this.logger.vendor('info', 'NQ302_CONNECTED');
    const session: ActiveSession = new ActiveSession({
      conn,
      events: this,
      log: this.logger,
      clock: this.clock,
      keepalive: this.keepalive,
      logonTimeoutMs: this.opts.link.connectTimeoutMs,
      answerTimeoutMs: this.opts.link.answerTimeoutMs,
      logon: {
        station: this.opts.station,
        units: [...this.opts.units],
        lastReturnSeq: this.opts.lastReturnSeq(),
        auth: this.opts.auth,
        tradingDate: this.opts.tradingDate(),
        software: this.opts.software ?? software().text,
        ...(this.opts.noFills === true ? { noFills: true } : {}),
      },
      onUp: (answer) => {
        if (this.active === session) this.onUp(answer);
      },
      onEnd: (ending) => {
        if (this.active === session) this.end(ending);
      },
    });
    this.active = session;
    this.setState('logging-on');
    session.open();
  }

  private onUp(answer: LogonAnswerBody): void {
    const server = this.servers.current;
    this.armStable();
    this.setState('up');
    this.logger.line(
      'info',
      undefined,
      `登录成功: ${describeServer(server)}, 交易日 ${answer.tradingDate}, 股市状态 ${marketWords(answer.marketState)}`,
    );
    this.emit('up', { server, answer });
  }

  // ---- ending a link and reconnecting ----

  /** End the current attempt or link, log why in the vendor's words, schedule the next attempt. */
  private end(ending: Ending): void {
    if (this.st === 'stopped') return;
    switch (ending.kind) {
      case 'timeout':
        this.logger.line('warn', 'NQ303', `${formatMessage('NQ303_TIMEOUT_RECONNECT')} (${ending.text})`);
        break;
      case 'error':
        this.logger.line('error', ending.code, ending.text);
        this.logger.vendor('warn', 'NQ306_LINK_ERROR_RECONNECT');
        break;
      case 'closed':
      case 'quit':
        // After a quit the vendor's screen says 收到quit包, 连接中断 (where it arrived), then these two.
        this.logger.vendor('warn', 'NQ305_DISCONNECTED');
        this.logger.vendor('warn', 'NQ306_LINK_ERROR_RECONNECT');
        break;
      case 'operator':
        this.logger.line('info', undefined, `操作员要求重新连接: ${ending.text}`);
        break;
      case 'stalled':
        this.stalledFor = ending.text;
        this.logger.vendor('warn', 'NQ306_LINK_ERROR_RECONNECT');
        break;
      default:
        break; // a refusal was logged where it arrived
    }
    this.drop(ending.text, ending.kind === 'operator');
    const next = this.servers.next(NEXT[ending.kind]);
    this.scheduleConnect(ending.kind === 'operator' ? 0 : next.delayMs);
  }

  /**
   * teardown() when nobody waits for the close: ActiveSession.close() resolves on the socket's
   * 'close' and does not reject; should it, that is logged rather than left unhandled.
   */
  private drop(reason: string, goodbye = false): void {
    this.teardown(reason, goodbye).catch((err: unknown) =>
      this.logger.line('warn', undefined, `closing the link failed: ${(err as Error).message}`),
    );
  }

  /**
   * Abandon the attempt or close the session (saying goodbye with a Quit when asked and up);
   * emits 'down' if it was up. Resolves when the connection has closed.
   */
  private teardown(reason: string, goodbye = false): Promise<void> {
    const wasUp = this.st === 'up';
    const server = this.servers.current;
    this.gen += 1;
    this.clearTimer('connectTimer');
    this.clearTimer('backoffTimer');
    this.clearTimer('stableTimer');
    this.abort?.abort();
    this.abort = null;
    const session = this.active;
    this.active = null;
    const closing = session ? session.close(goodbye ? reason : undefined) : Promise.resolve();
    if (wasUp) this.emit('down', { server, reason });
    return closing;
  }

  /**
   * The backoff is reset only once a session has stayed up for `stableAfterMs` (one heartbeat
   * interval: long enough for a heartbeat exchange). Resetting it at the logon answer let a main
   * station that accepts the logon and then quits, closes or stalls at once drive ~4 logons a
   * second, each one resending every unanswered order.
   */
  private armStable(): void {
    this.clearTimer('stableTimer');
    const session = this.active;
    this.stableTimer = setTimeout(() => {
      this.stableTimer = null;
      if (this.st !== 'up' || this.active !== session) return;
      this.servers.loggedOn();
      if (session?.unanswered === 0) this.stalledFor = null;
    }, this.stableAfterMs);
  }

  /** How long a session must stay up before the backoff starts again from zero. */
  get stableAfterMs(): number {
    return this.opts.link.heartbeatMs;
  }

  private scheduleConnect(delayMs: number): void {
    this.setState('backoff');
    if (this.heldFor !== null) return; // release() connects
    if (delayMs > 0) {
      this.logger.line('info', undefined, `${delayMs} 毫秒后连接 ${describeServer(this.servers.current)}`);
    }
    this.backoffTimer = setTimeout(() => {
      this.backoffTimer = null;
      if (this.st === 'backoff') this.connectNow();
    }, delayMs);
  }

  private setState(state: LinkState): void {
    if (this.st === state) return;
    this.st = state;
    this.emit('state', state, state === 'stopped' ? null : this.servers.current);
  }

  private clearTimer(name: 'connectTimer' | 'backoffTimer' | 'stableTimer'): void {
    const t = this[name];
    if (t !== null) clearTimeout(t);
    this[name] = null;
  }
}
