/**
 * One gateway connection as the main station sees it. The session knows the network only through
 * a Transport (write, end, destroy, pause, resume, the client certificate's CN), so a test can
 * drive it without TLS. States: 'logon' (first frame must be a Logon) → 'live' → 'closed'.
 *
 * Store first, then send: the records an incoming chunk makes are committed once (group commit)
 * and the chunk's answers and returns go out only after that. Frame sequence numbers are given
 * when a frame is written, so they rise on the wire whatever was queued first. The outgoing
 * heartbeat timer and the incoming-silence check are separate; outgoing traffic never counts as
 * hearing from the client.
 */
import { cstDate, formatMessage, MESSAGES, type Clock } from '../shared/index.js';
import {
  encodeFrame,
  FrameDecoder,
  FrameError,
  decodeMessage,
  encodeMessage,
  MessageType,
  type LogonBody,
  type Message,
} from './codec.js';
import type { SimConfig, StationConfig } from './config.js';
import { CLIENT_QUIT_LOG, isSilent, SOFT_REFUSED, takeOrder, type Outgoing } from './exchange.js';
import type { SimStore } from './store.js';
import type { Transport } from './transport.js';

/** What the last accepted logon of a station asked for. */
export interface LogonInfo {
  lastReturnSeq: number;
  auth: string;
}

export interface SessionHost {
  readonly config: SimConfig;
  readonly store: SimStore;
  readonly clock: Clock;
  /** Monotonic milliseconds, for liveness. */
  monotonic(): number;
  log(who: string, text: string): void;
  /** Make `session` the one live session of `station` (false when another is live). */
  claim(station: string, session: SimSession, logon: LogonInfo): boolean;
  release(station: string, session: SimSession): void;
}

type State = 'logon' | 'live' | 'closed';

export class SimSession {
  private state: State = 'logon';
  private stationCfg: StationConfig | undefined;
  private readonly decoder = new FrameDecoder();
  private outSeq = 0;
  private tail: Promise<void> = Promise.resolve();
  private lastHeard: number;
  private muted = false;
  /** The logon asked for 不接受成交: orders of this session get no fills. */
  private noFills = false;
  private ending = false;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private readonly silenceTimer: NodeJS.Timeout;
  private readonly faultTimers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly transport: Transport,
    private readonly host: SessionHost,
  ) {
    this.lastHeard = host.monotonic();
    const every = Math.max(10, Math.min(1000, Math.floor(host.config.silenceMs / 4)));
    this.silenceTimer = setInterval(() => this.checkSilence(), every);
  }

  get station(): string | undefined {
    return this.state === 'live' ? this.stationCfg?.id : undefined;
  }

  private get who(): string {
    return this.stationCfg?.id ?? this.transport.remote;
  }

  /** Everything the socket delivers. */
  onData(chunk: Buffer): void {
    if (this.state === 'closed' || this.ending) return;
    this.lastHeard = this.host.monotonic();
    let out: Outgoing[] = [];
    let records = false;
    try {
      for (const frame of this.decoder.push(chunk)) {
        if (this.ending) break;
        const msg = decodeMessage(frame);
        if (this.state === 'logon') {
          out = out.concat(this.onLogon(msg));
        } else if (this.state === 'live') {
          records = this.onLive(msg, out) || records;
        }
      }
    } catch (err) {
      // A broken frame ends the link (never resynchronise by guessing); so does a store failure,
      // which is logged loudly and fails every later commit too.
      const what = err instanceof FrameError ? 'protocol error' : 'internal error, dropping the link';
      this.host.log(this.who, `${what}: ${(err as Error).message}`);
      this.close();
      return;
    }
    this.send(out, records ? this.host.store.commit() : undefined);
    if (this.ending) this.closeAfterSend();
  }

  private onLogon(msg: Message): Outgoing[] {
    if (msg.type !== MessageType.Logon) {
      this.host.log(this.who, `expected Logon, got message type ${msg.type}`);
      return this.refuse('PROTOCOL', '请先登录');
    }
    const b = msg.body as Partial<LogonBody>;
    if (typeof b.station !== 'string' || !Array.isArray(b.units) || !Number.isInteger(b.lastReturnSeq)) {
      return this.refuse('FORMAT', '登录请求格式错误');
    }
    const cfg = this.host.config.stations.get(b.station);
    if (!cfg) return this.refuse('STATION', MESSAGES.NQ102_BAD_PASSWORD);
    this.stationCfg = cfg;
    if (this.transport.peerCn !== cfg.certCn) return this.refuse('CERT', MESSAGES.NQ101_EKEY_CERT);
    const today = cstDate(this.host.clock.now());
    if (b.auth === 'soft' && !this.host.store.isSoftEnabled(cfg.id, today))
      return this.refuse('SOFT', SOFT_REFUSED);
    const foreign = b.units.find((u) => typeof u !== 'string' || !cfg.units.includes(u));
    if (foreign !== undefined) {
      const text = formatMessage('NQ103_UNIT_NOT_OF_STATION', { unit: String(foreign) });
      this.host.log(cfg.id, text);
      this.ending = true;
      return [
        { type: MessageType.Notice, body: { text } },
        { type: MessageType.Quit, body: { reason: text } },
      ];
    }
    const lastReturnSeq = b.lastReturnSeq as number;
    if (!this.host.claim(cfg.id, this, { lastReturnSeq, auth: String(b.auth) })) {
      return this.refuse('SESSION', `小站${cfg.id}已有连接在线`);
    }
    this.state = 'live';
    this.noFills = b.noFills === true;
    this.host.log(cfg.id, `logon ok, auth ${String(b.auth)}, lastReturnSeq ${lastReturnSeq}`);
    this.heartbeatTimer = setInterval(() => this.heartbeat(), this.host.config.heartbeatMs);
    const now = this.host.clock.now();
    const resend = this.host.store.day(cfg.id, today).returns.slice(Math.max(0, lastReturnSeq));
    return [
      {
        type: MessageType.LogonAnswer,
        body: { ok: true, tradingDate: today, marketState: this.host.store.market, serverTime: now },
      },
      { type: MessageType.MarketState, body: { state: this.host.store.market } },
      ...resend.map((raw): Outgoing => ({ type: MessageType.Return, raw })),
    ];
  }

  private refuse(code: string, text: string): Message[] {
    this.host.log(this.who, `logon refused: ${code} ${text}`);
    this.ending = true;
    const now = this.host.clock.now();
    return [
      {
        type: MessageType.LogonAnswer,
        body: {
          ok: false,
          code,
          text,
          tradingDate: cstDate(now),
          marketState: this.host.store.market,
          serverTime: now,
        },
      },
    ];
  }

  /** Handle one message of a live session; true when it recorded something. */
  private onLive(msg: Message, out: Outgoing[]): boolean {
    const cfg = this.stationCfg!;
    const store = this.host.store;
    switch (msg.type) {
      case MessageType.Order:
        out.push(
          ...takeOrder(
            store,
            this.host.config,
            cfg,
            this.host.clock.now(),
            msg.body,
            msg.possDup === true,
            this.noFills,
          ),
        );
        return true;
      case MessageType.ReturnAck: {
        const seq = (msg.body as { HBXH?: unknown }).HBXH;
        const today = cstDate(this.host.clock.now());
        if (typeof seq !== 'number' || !Number.isInteger(seq)) return false;
        if (seq <= store.day(cfg.id, today).lastAcked) return false;
        store.record({ k: 'ack', st: cfg.id, d: today, seq });
        return true;
      }
      case MessageType.Heartbeat:
        return false;
      case MessageType.Quit:
        this.host.log(cfg.id, 'quit received from the client');
        this.ending = true;
        return false;
      default:
        this.host.log(cfg.id, `ignored message type ${msg.type}`);
        return false;
    }
  }

  /** Queue messages; they go out after `durable` (and after everything queued before). */
  send(messages: Outgoing[], durable?: Promise<void>): void {
    if (messages.length === 0 && !durable) return;
    this.tail = this.tail
      .then(() => durable)
      .then(
        () => this.write(messages),
        (err: unknown) => {
          this.host.log(this.who, `state log failure, dropping the link: ${(err as Error).message}`);
          this.close();
        },
      );
  }

  private write(messages: Outgoing[]): void {
    if (this.state === 'closed' || messages.length === 0) return;
    const frames = messages.map((m) =>
      'raw' in m
        ? encodeFrame({ type: m.type, seq: ++this.outSeq, flags: 0, body: Buffer.from(m.raw, 'utf8') })
        : encodeMessage(m, ++this.outSeq),
    );
    this.transport.write(frames.length === 1 ? frames[0]! : Buffer.concat(frames));
  }

  private closeAfterSend(): void {
    this.tail = this.tail.then(() => {
      if (this.state !== 'closed') this.transport.end();
    });
  }

  private heartbeat(): void {
    if (this.muted || this.state !== 'live') return;
    this.send([{ type: MessageType.Heartbeat, body: {} }]);
  }

  private checkSilence(): void {
    if (this.muted || this.state === 'closed') return;
    if (isSilent(this.host.monotonic(), this.lastHeard, this.host.config.silenceMs)) {
      this.host.log(this.who, CLIENT_QUIT_LOG);
      this.close();
    }
  }

  // ---- faults and admin actions ----

  notice(text: string): void {
    this.host.log(this.who, `notice sent: ${text}`);
    this.send([{ type: MessageType.Notice, body: { text } }]);
  }

  quit(reason: string): void {
    this.host.log(this.who, `quit sent: ${reason}`);
    this.ending = true;
    this.send([{ type: MessageType.Quit, body: { reason } }]);
    this.closeAfterSend();
  }

  marketState(state: string): void {
    this.send([{ type: MessageType.MarketState, body: { state } }]);
  }

  /** Send nothing and read nothing for `ms`; then carry on as if nothing happened. */
  silence(ms: number): void {
    this.host.log(this.who, `fault: silent for ${ms} ms`);
    this.muted = true;
    this.transport.pause();
    let release: () => void = () => undefined;
    const over = new Promise<void>((resolve) => (release = resolve));
    this.tail = this.tail.then(() => over);
    const timer = setTimeout(() => {
      this.faultTimers.delete(timer);
      this.muted = false;
      this.lastHeard = this.host.monotonic();
      if (this.state !== 'closed') this.transport.resume();
      release();
    }, ms);
    this.faultTimers.add(timer);
  }

  /** Destroy the connection at once (also the `drop` fault). */
  close(): void {
    if (this.state !== 'closed') this.transport.destroy();
    this.onClose();
  }

  /** The transport is gone: release everything. */
  onClose(): void {
    if (this.state === 'closed') return;
    const wasLive = this.state === 'live';
    this.state = 'closed';
    clearInterval(this.silenceTimer);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    for (const t of this.faultTimers) clearTimeout(t);
    this.faultTimers.clear();
    if (wasLive && this.stationCfg) {
      this.host.release(this.stationCfg.id, this);
      this.host.log(this.stationCfg.id, 'session closed');
    }
  }
}
