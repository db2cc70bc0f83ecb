import type { Clock } from '../shared/index.js';
import type { ServerAddress } from '../config/index.js';

/**
 * Why the client is about to connect again. The reason decides which server is next:
 * - 'failure'  connect failed (refused, timeout, handshake), logon unanswered, link dead
 *              (silence, closed, protocol error)            -> the next server in the list
 * - 'quit'     the main station sent quit                   -> the same server
 * - 'refused'  the main station answered the logon with ok=false -> the same server
 * - 'operator' an operator asked for a reconnect            -> the same server
 */
export type ReconnectReason = 'failure' | 'quit' | 'refused' | 'operator';

export interface ServerListOptions {
  servers: readonly ServerAddress[];
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** While on a fallback server, how long after leaving server 1 the next reconnect tries server 1. */
  primaryRetryS: number;
  clock: Clock;
  /** Uniform in [0, 1); injected for tests. */
  random: () => number;
}

export interface NextAttempt {
  index: number;
  server: ServerAddress;
  /** How long to wait before connecting. */
  delayMs: number;
}

/**
 * Walks the tw.ini server list (ioredis' SentinelIterator, plus its retryStrategy). Pure: time and
 * randomness are injected, nothing is scheduled here.
 *
 * Backoff: full jitter, delay = random() * min(max, initial * 2^(n-1)) for the n-th consecutive
 * attempt since the last session that stayed up; `loggedOn()` resets n to 0.
 *
 * Return to server 1: when we move off server 1 the time is noted; while on a fallback server, once
 * `primaryRetryS` seconds have passed since then, the next reconnect (whatever its reason) goes to
 * server 1. If server 1 fails again we walk on and the period starts afresh. An operator's
 * `switchTo(n)` is followed at once (no delay) and, for n > 1, starts the same period.
 */
export class ServerList {
  private readonly servers: readonly ServerAddress[];
  private idx = 0;
  private attempts = 0;
  private leftPrimaryAt: number | null = null;

  constructor(private readonly opts: ServerListOptions) {
    if (opts.servers.length === 0) throw new RangeError('the server list is empty');
    if (!(opts.backoffInitialMs >= 0) || !(opts.backoffMaxMs >= opts.backoffInitialMs)) {
      throw new RangeError('backoff needs 0 <= initial <= max');
    }
    this.servers = [...opts.servers];
  }

  get index(): number {
    return this.idx;
  }

  get current(): ServerAddress {
    return this.servers[this.idx]!;
  }

  get length(): number {
    return this.servers.length;
  }

  /** Consecutive attempts since the last session that stayed up. */
  get attemptCount(): number {
    return this.attempts;
  }

  /** The first attempt after start(): the current server (server 1 on a fresh list), no delay. */
  first(): NextAttempt {
    this.attempts = 1;
    return { index: this.idx, server: this.current, delayMs: 0 };
  }

  /** Pick the server and the delay of the next attempt. */
  next(reason: ReconnectReason): NextAttempt {
    if (this.primaryDue()) {
      this.moveTo(0);
    } else if (reason === 'failure') {
      this.moveTo((this.idx + 1) % this.servers.length);
    }
    this.attempts += 1;
    return { index: this.idx, server: this.current, delayMs: this.backoffMs(this.attempts) };
  }

  /**
   * A session on the current server has proved itself (stayed up for a heartbeat interval, see
   * LinkClient): the backoff starts again from the beginning. Not called at the logon answer itself.
   */
  loggedOn(): void {
    this.attempts = 0;
  }

  /** Operator: connect to server `index` (0-based) now. */
  switchTo(index: number): NextAttempt {
    if (!Number.isInteger(index) || index < 0 || index >= this.servers.length) {
      throw new RangeError(`no server ${index + 1}: the list has ${this.servers.length}`);
    }
    this.moveTo(index);
    this.leftPrimaryAt = index === 0 ? null : this.opts.clock.now();
    this.attempts = 0;
    return { index: this.idx, server: this.current, delayMs: 0 };
  }

  /** The capped exponential ceiling for attempt n (>= 1), before jitter. */
  ceilingMs(n: number): number {
    const { backoffInitialMs: initial, backoffMaxMs: max } = this.opts;
    if (n <= 1) return Math.min(initial, max);
    // 2^(n-1) overflows to Infinity for large n, which min() caps.
    return Math.min(max, initial * 2 ** (n - 1));
  }

  private backoffMs(n: number): number {
    const r = Math.min(Math.max(this.opts.random(), 0), 1);
    return Math.floor(r * this.ceilingMs(n));
  }

  private primaryDue(): boolean {
    if (this.idx === 0 || this.leftPrimaryAt === null) return false;
    return this.opts.clock.now() - this.leftPrimaryAt >= this.opts.primaryRetryS * 1000;
  }

  private moveTo(index: number): void {
    if (index === this.idx) return;
    if (index === 0) this.leftPrimaryAt = null;
    else if (this.idx === 0 || this.leftPrimaryAt === null) this.leftPrimaryAt = this.opts.clock.now();
    this.idx = index;
  }
}
