import { EventEmitter } from 'node:events';
import { readChronyTracking, type ChronyReaderOptions } from './chrony.js';
import {
  classifyOffset,
  measureServers,
  type ClockState,
  type Measurement,
  type ServerResult,
} from './measure.js';
import type { ClockSettings } from './settings.js';
import { preciseWallClock } from './wallclock.js';

/**
 * The NTP drift watchdog: one measurement round every `interval_s`, a state per round, an event
 * per change.
 *
 *   ok      |offset| <  warn_ms
 *   warn    warn_ms  <= |offset| < alarm_ms
 *   alarm   |offset| >= alarm_ms
 *   unknown no server answered (also the state before the first round)
 *
 * `holdOrders` is what the gateway engine reads before sending an order: true only when
 * policy = hold and the state is 'alarm' (or 'unknown' with hold_on_unknown = true). By default
 * 'unknown' does not hold: losing sight of the time servers (a network fault) says nothing
 * about the clock, which drifts by microseconds per second at most; it is alerted, not acted on.
 * The engine also listens to 'change' to resume sending the moment the hold lifts; held orders
 * simply stay unsent in NQWT.DBF.
 */

export interface ClockChange {
  from: ClockState;
  to: ClockState;
  offsetMs: number | null;
  errorBoundMs: number | null;
  servers: ServerResult[];
  /** holdOrders after this change. */
  holdOrders: boolean;
  at: number;
}

export interface ClockRound {
  state: ClockState;
  measurement: Measurement;
}

export interface ChronyDisagreement {
  disagrees: boolean;
  differenceMs: number | null;
  note: string;
}

export interface ClockWatchdogEvents {
  change: [ClockChange];
  measurement: [ClockRound];
  /** chrony's opinion started or stopped disagreeing with ours. */
  chrony: [ChronyDisagreement];
}

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface ClockWatchdogOptions {
  settings: ClockSettings;
  /** One measurement round; default: every configured server, plus chrony when chrony = auto. */
  measure?: (signal: AbortSignal) => Promise<Measurement>;
  /** Where chronyc is (tests point it at their own chronyd). */
  chronyReader?: ChronyReaderOptions;
  now?: () => number;
  timers?: Timers;
}

const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

export class ClockWatchdog extends EventEmitter<ClockWatchdogEvents> {
  #state: ClockState = 'unknown';
  #last: Measurement | null = null;
  #chronyDisagrees = false;
  #timer: unknown = null;
  #running = false;
  #abort: AbortController | null = null;
  #inFlight: Promise<ClockRound> | null = null;
  readonly #settings: ClockSettings;
  readonly #measure: (signal: AbortSignal) => Promise<Measurement>;
  readonly #now: () => number;
  readonly #timers: Timers;

  constructor(options: ClockWatchdogOptions) {
    super();
    this.#settings = options.settings;
    this.#now = options.now ?? (() => preciseWallClock.now());
    this.#timers = options.timers ?? realTimers;
    const s = options.settings;
    this.#measure =
      options.measure ??
      ((signal) =>
        measureServers(s.servers, {
          timeoutMs: s.timeoutMs,
          samples: s.samples,
          signal,
          now: this.#now,
          chrony:
            s.chrony === 'auto'
              ? { read: () => readChronyTracking(options.chronyReader), disagreeMs: s.chronyDisagreeMs }
              : undefined,
        }));
  }

  get state(): ClockState {
    return this.#state;
  }

  /** The latest measurement, null before the first round. */
  get last(): Measurement | null {
    return this.#last;
  }

  get settings(): ClockSettings {
    return this.#settings;
  }

  /** Whether new orders must wait (policy = hold and the clock is out of bounds). */
  get holdOrders(): boolean {
    return holdFor(this.#state, this.#settings);
  }

  get running(): boolean {
    return this.#running;
  }

  /** Measure now, then every interval_s (counted from the start of each round). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop();
  }

  /** Stop the timer and cancel the round in flight; resolves when its sockets are closed. */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer !== null) {
      this.#timers.clearTimeout(this.#timer);
      this.#timer = null;
    }
    this.#abort?.abort();
    const inFlight = this.#inFlight;
    if (inFlight) await inFlight.catch(() => undefined);
  }

  /** One round now (also what the timer runs). Rounds never overlap: a second call joins the first. */
  measureNow(): Promise<ClockRound> {
    if (this.#inFlight) return this.#inFlight;
    const abort = new AbortController();
    this.#abort = abort;
    const round = this.#round(abort.signal).finally(() => {
      if (this.#inFlight === round) this.#inFlight = null;
      if (this.#abort === abort) this.#abort = null;
    });
    this.#inFlight = round;
    return round;
  }

  #loop(): void {
    const startedAt = this.#now();
    // Nobody awaits the timer's round. A failed measurement is already a round with no answer
    // (#round); what can still reject is a 'change'/'measurement' listener that threw: the next
    // round is scheduled anyway and the failure is a process warning, not an unhandled rejection.
    this.measureNow()
      .finally(() => {
        if (!this.#running) return;
        const wait = Math.max(0, this.#settings.intervalS * 1000 - (this.#now() - startedAt));
        this.#timer = this.#timers.setTimeout(() => {
          this.#timer = null;
          if (this.#running) this.#loop();
        }, wait);
      })
      .catch((err: unknown) =>
        process.emitWarning(`ClockWatchdog listener failed: ${(err as Error).message}`),
      );
  }

  async #round(signal: AbortSignal): Promise<ClockRound> {
    let measurement: Measurement;
    try {
      measurement = await this.#measure(signal);
    } catch {
      // A measure function must not throw; if one does, the round counts as "no answer".
      measurement = {
        at: this.#now(),
        offsetMs: null,
        errorBoundMs: null,
        delayMs: null,
        spreadMs: null,
        answered: 0,
        servers: [],
      };
    }
    const state = classifyOffset(measurement.offsetMs, this.#settings);
    const round: ClockRound = { state, measurement };
    if (signal.aborted) return round; // stopped meanwhile: report nothing
    this.#apply(round);
    return round;
  }

  /** Feed one round's result into the state machine and tell the listeners. */
  #apply(round: ClockRound): void {
    const { state, measurement } = round;
    const from = this.#state;
    this.#last = measurement;
    this.#state = state;
    this.emit('measurement', round);
    if (from !== state) {
      this.emit('change', {
        from,
        to: state,
        offsetMs: measurement.offsetMs,
        errorBoundMs: measurement.errorBoundMs,
        servers: measurement.servers,
        holdOrders: this.holdOrders,
        at: measurement.at,
      });
    }
    const c = measurement.chrony;
    if (c && c.disagrees !== this.#chronyDisagrees) {
      this.#chronyDisagrees = c.disagrees;
      this.emit('chrony', { disagrees: c.disagrees, differenceMs: c.differenceMs, note: c.note });
    }
  }
}

/** The hold rule on its own, for the engine and the docs. */
export function holdFor(
  state: ClockState,
  settings: Pick<ClockSettings, 'policy' | 'holdOnUnknown'>,
): boolean {
  if (settings.policy !== 'hold') return false;
  if (state === 'alarm') return true;
  return state === 'unknown' && settings.holdOnUnknown;
}

/** One line for logs and alerts. */
export function describeChange(change: ClockChange): string {
  const figure =
    change.offsetMs === null
      ? 'no time server answered'
      : `offset ${formatMs(change.offsetMs)} ± ${formatMs(change.errorBoundMs ?? 0, false)}`;
  const hold = change.holdOrders ? '; new orders are held' : '';
  return `clock ${change.from} -> ${change.to}: ${figure}${hold}`;
}

export function formatMs(ms: number, signed = true): string {
  const text = `${Math.abs(ms).toFixed(3)} ms`;
  if (!signed) return text;
  return `${ms < 0 ? '-' : '+'}${text}`;
}
