import type { EventEmitter } from 'node:events';
import { formatMessage, type Clock } from '../shared/index.js';
import { AnswerWatch, stallWords } from './answers.js';
import { LinkProtocolError } from './errors.js';
import { Inbound } from './inbound.js';
import * as ka from './keepalive.js';
import type { LinkLogger } from './log.js';
import {
  encodeMessage,
  MessageType,
  type LogonAnswerBody,
  type LogonBody,
  type Message,
  type OrderAnswerBody,
  type ReturnBody,
} from './messages.js';
import { encodeOrders, type OutgoingOrder } from './outbound.js';
import type { LinkConnection } from './transport.js';
import type { LinkEvents } from './types.js';
import { marketWords } from './text.js';

/** How a session ended; decides the operator's log lines and which server is next. */
export type Ending =
  | { kind: 'timeout'; text: string } // NQ303, next server
  | { kind: 'error'; text: string; code?: string } // NQ306, next server
  | { kind: 'closed'; text: string } // NQ305 + NQ306, next server
  | { kind: 'quit'; text: string } // same server
  | { kind: 'refused'; text: string } // same server
  | { kind: 'stalled'; text: string } // orders unanswered too long (NQ320), next server
  | { kind: 'operator'; text: string }; // same server, at once

export interface ActiveSessionParams {
  conn: LinkConnection;
  events: EventEmitter<LinkEvents>;
  log: LinkLogger;
  clock: Clock;
  keepalive: ka.KeepaliveSettings;
  /** How long to wait for the LogonAnswer. */
  logonTimeoutMs: number;
  /** An order unanswered for this long means the main station has stalled ([link] answer_timeout_ms). */
  answerTimeoutMs: number;
  logon: LogonBody;
  /** The logon was accepted; the session is up (called before keepalive starts). */
  onUp(answer: LogonAnswerBody): void;
  /** The session ended by itself (called once; not called after close()). */
  onEnd(ending: Ending): void;
}

/** Connections that have emitted 'close'. */
const closed = new WeakSet<LinkConnection>();

/**
 * One connection's life, from sending the Logon to the close: sequence numbers both ways,
 * incoming dispatch (batched per chunk), heartbeats, silence detection, unanswered orders and the
 * send-blocked warning, all driven by one keepalive timer. The LinkClient owns the walk over servers.
 *
 * Incoming silence counts COMPLETE frames only: a peer that announces a frame and drips it a byte
 * at a time is as dead as a silent one (it used to keep the link 正常 forever).
 */
export class ActiveSession {
  private phase: 'logging-on' | 'up' | 'ended' = 'logging-on';
  private readonly inbound = new Inbound();
  private readonly answers: AnswerWatch;
  private seqOut = 1;
  private readonly times: ka.KeepaliveTimes;
  private logonTimer: NodeJS.Timeout | null = null;
  private keepaliveTimer: NodeJS.Timeout | null = null;

  constructor(private readonly p: ActiveSessionParams) {
    const now = p.clock.now();
    this.times = { lastSentAt: now, lastReceivedAt: now, blockedSince: null, lastBlockWarnAt: null };
    this.answers = new AnswerWatch(p.answerTimeoutMs);
  }

  get up(): boolean {
    return this.phase === 'up';
  }

  /** A getter, so that TypeScript does not narrow the phase across calls that may end the session. */
  private get ended(): boolean {
    return this.phase === 'ended';
  }

  /** Orders sent on this session and not answered yet. */
  get unanswered(): number {
    return this.answers.count;
  }

  get writable(): boolean {
    return this.phase === 'up' && this.times.blockedSince === null;
  }

  /** Attach to the connection, send the Logon and wait for its answer. */
  open(): void {
    const { conn } = this.p;
    conn.on('close', () => {
      closed.add(conn);
      const text = formatMessage('NQ305_DISCONNECTED');
      if (this.phase === 'logging-on') {
        this.p.log.line(
          'error',
          'NQ393',
          '主站在登录应答前关闭了连接 (客户端证书被拒绝? 小站号已在其他会话登录?)',
        );
      }
      this.end({ kind: 'closed', text });
    });
    conn.on('error', (err) =>
      this.end({ kind: 'error', text: err.message, code: (err as NodeJS.ErrnoException).code }),
    );
    conn.on('data', (chunk) => this.onData(chunk));
    conn.on('drain', () => this.onDrain());
    this.send({ type: MessageType.Logon, body: this.p.logon });
    this.logonTimer = setTimeout(() => {
      this.logonTimer = null;
      this.end({ kind: 'timeout', text: 'no answer to the logon' });
    }, this.p.logonTimeoutMs);
  }

  /** Queue a batch of orders as one write; the caller checks `up`. */
  sendOrders(orders: readonly OutgoingOrder[]): void {
    if (orders.length === 0) return;
    const buf = encodeOrders(orders, this.seqOut);
    this.seqOut += orders.length;
    const wasIdle = this.answers.count === 0;
    this.answers.sent(orders, this.p.clock.now());
    this.write(buf);
    // The keepalive timer may be set for later than this batch's answer deadline.
    if (wasIdle && this.up) this.armKeepalive();
  }

  ackReturn(seq: number): boolean {
    return this.send({ type: MessageType.ReturnAck, body: { HBXH: seq } });
  }

  /**
   * Stop everything and close the connection; resolves when it has closed. No onEnd. With a
   * `goodbye`, a live session first tells the main station (Quit), which frees the station's one
   * session at once instead of after its 30 s silence limit.
   */
  close(goodbye?: string): Promise<void> {
    if (goodbye !== undefined && this.phase === 'up')
      this.send({ type: MessageType.Quit, body: { reason: goodbye } });
    this.phase = 'ended';
    this.clearTimers();
    const { conn } = this.p;
    if (closed.has(conn)) return Promise.resolve();
    return new Promise<void>((resolve) => {
      conn.on('close', () => resolve());
      conn.on('error', () => undefined); // errors after we let go are of no interest
      try {
        conn.end();
      } finally {
        conn.destroy();
      }
    });
  }

  // ---- receiving ----

  private onData(chunk: Buffer): void {
    if (this.ended) return;
    const { messages, error } = this.inbound.push(chunk);
    if (messages.length > 0) this.times.lastReceivedAt = this.p.clock.now();
    let answers: OrderAnswerBody[] = [];
    let returns: ReturnBody[] = [];
    const flush = (): void => {
      if (answers.length > 0) {
        const batch = answers;
        answers = [];
        this.deliver('orderAnswers', batch);
      }
      if (returns.length > 0 && !this.ended) {
        const batch = returns;
        returns = [];
        this.deliver('returns', batch);
      }
    };
    for (const msg of messages) {
      if (this.ended) return;
      if (this.phase !== 'up' && (msg.type === MessageType.OrderAnswer || msg.type === MessageType.Return)) {
        this.protocolError(`${MessageType[msg.type]} before the logon answer`);
        return;
      }
      if (msg.type === MessageType.OrderAnswer) {
        answers.push(msg.body);
        this.answers.answered(msg.body);
      } else if (msg.type === MessageType.Return) returns.push(msg.body);
      else {
        flush();
        if (!this.ended) this.onControl(msg);
      }
    }
    if (!this.ended) flush();
    if (error && !this.ended) {
      this.end({ kind: 'error', text: error.message, code: (error as { code?: string }).code });
    }
  }

  private onControl(msg: Message): void {
    switch (msg.type) {
      case MessageType.LogonAnswer:
        if (this.phase !== 'logging-on') this.protocolError('LogonAnswer while already logged on');
        else this.onLogonAnswer(msg.body);
        return;
      case MessageType.Notice:
        this.p.log.vendor('info', 'NQ307_NOTICE', { text: msg.body.text });
        this.p.events.emit('notice', msg.body.text);
        return;
      case MessageType.MarketState:
        this.p.log.line('info', undefined, `股市状态: ${marketWords(msg.body.state)}`);
        this.p.events.emit('market', msg.body.state);
        return;
      case MessageType.Quit: {
        const reason = msg.body.reason ?? '';
        this.p.log.vendor('warn', 'NQ304_QUIT_RECEIVED');
        if (reason) this.p.log.line('info', undefined, `quit: ${reason}`);
        this.p.events.emit('quit', reason);
        this.end({ kind: 'quit', text: `quit: ${reason}` });
        return;
      }
      default:
        // Heartbeat: receiving it was the point (it moved the silence timer); the gateway counts it.
        // It says nothing about orders: a main station may heartbeat and not answer (AnswerWatch).
        if (this.phase === 'up') this.p.events.emit('heartbeat');
        return;
    }
  }

  private onLogonAnswer(answer: LogonAnswerBody): void {
    this.clearTimer('logonTimer');
    if (!answer.ok) {
      const text = answer.text ?? '登录被主站拒绝';
      this.p.log.line('error', answer.code, `主站拒绝登录: ${text}`);
      this.p.events.emit('refused', answer);
      this.end({ kind: 'refused', text });
      return;
    }
    this.phase = 'up';
    this.p.onUp(answer);
    if (!this.up) return; // a listener of 'up' stopped or switched
    this.p.events.emit('market', answer.marketState);
    if (this.up) this.armKeepalive();
  }

  /** Hand a batch to the application; a throwing listener is a loud error and drops the link. */
  private deliver<K extends 'orderAnswers' | 'returns'>(event: K, batch: LinkEvents[K][0]): void {
    try {
      (this.p.events.emit as (e: K, b: LinkEvents[K][0]) => boolean)(event, batch);
    } catch (err) {
      const text = `${event} handler failed: ${err instanceof Error ? err.message : String(err)}`;
      this.p.log.line('error', 'NQ397', text);
      this.end({ kind: 'error', text });
    }
  }

  private protocolError(text: string): void {
    const err = new LinkProtocolError(text);
    this.end({ kind: 'error', text: err.message, code: err.code });
  }

  // ---- sending and keepalive ----

  private send(msg: Message): boolean {
    if (this.ended || (this.phase !== 'up' && msg.type !== MessageType.Logon)) return false;
    this.write(encodeMessage(msg, this.seqOut++));
    return true;
  }

  private write(buf: Buffer): void {
    const now = this.p.clock.now();
    this.times.lastSentAt = now;
    if (!this.p.conn.write(buf) && this.times.blockedSince === null) {
      this.times.blockedSince = now;
      this.times.lastBlockWarnAt = null;
      if (this.phase === 'up') this.armKeepalive();
    }
  }

  private onDrain(): void {
    if (this.ended || this.times.blockedSince === null) return;
    this.times.blockedSince = null;
    this.times.lastBlockWarnAt = null;
    this.p.events.emit('drain');
  }

  private armKeepalive(): void {
    this.clearTimer('keepaliveTimer');
    const at = Math.min(ka.nextDeadline(this.times, this.p.keepalive), this.answers.deadline() ?? Infinity);
    const delay = Math.max(0, at - this.p.clock.now());
    this.keepaliveTimer = setTimeout(() => {
      this.keepaliveTimer = null;
      this.onKeepalive();
    }, delay);
  }

  private onKeepalive(): void {
    if (this.phase !== 'up') return;
    const now = this.p.clock.now();
    const s = this.p.keepalive;
    if (ka.peerSilent(now, this.times.lastReceivedAt, s.silenceMs)) {
      this.onSilent(now - this.times.lastReceivedAt);
      return;
    }
    const stall = this.answers.stalled(now);
    if (stall) {
      this.p.log.line('error', 'NQ320', stallWords(stall));
      this.end({
        kind: 'stalled',
        text: `${stall.count} orders unanswered, oldest record ${stall.oldestRecNo}`,
      });
      return;
    }
    if (ka.heartbeatDue(now, this.times.lastSentAt, s.heartbeatMs)) {
      this.send({ type: MessageType.Heartbeat, body: {} });
    }
    if (ka.sendBlockedWarningDue(now, this.times, s)) {
      const ms = ka.blockedFor(now, this.times.blockedSince);
      this.times.lastBlockWarnAt = now;
      this.p.log.vendor('warn', 'NQ308_SEND_BLOCKED', { ms });
      this.p.events.emit('sendBlocked', ms);
    }
    if (this.phase === 'up') this.armKeepalive();
  }

  /** Nothing complete came for silenceMs: a dead link, whether silent or dripping one frame. */
  private onSilent(ms: number): void {
    const held = this.inbound.partialBytes;
    if (held > 0)
      this.p.log.line('error', 'NQ321', ka.incompleteFrameWords(ms, held, this.inbound.partialAnnounced));
    const text =
      held > 0
        ? `no complete frame for ${ms} ms (${held} bytes of a frame pending)`
        : `nothing received for ${ms} ms`;
    this.end({ kind: 'timeout', text });
  }

  // ---- ending ----

  private end(ending: Ending): void {
    if (this.ended) return;
    this.phase = 'ended';
    this.clearTimers();
    this.p.onEnd(ending);
  }

  private clearTimer(name: 'logonTimer' | 'keepaliveTimer'): void {
    const t = this[name];
    if (t !== null) clearTimeout(t);
    this[name] = null;
  }

  private clearTimers(): void {
    this.clearTimer('logonTimer');
    this.clearTimer('keepaliveTimer');
  }
}
