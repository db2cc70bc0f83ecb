/**
 * The timers a long-lived part of the gateway schedules with (the link's connect, logon,
 * keep-alive and back-off waits, the engine's pump and status, the options' time file and
 * automatic exit). Passed in, never taken from the global object, so a test can drive them by
 * hand (test/helpers/manual-timers.ts) instead of waiting for real time to pass, the way MQTT.js
 * passes its timer object.
 */
export interface TimerHandle {
  /** Opaque: only the Timers that made it can clear it. */
  readonly __timer: unique symbol;
}

export interface Timers {
  /** Runs fn once after ms. `unref`: the timer alone does not keep the process alive. */
  setTimeout(fn: () => void, ms: number, options?: { unref?: boolean }): TimerHandle;
  /** Runs fn every ms until cleared. */
  setInterval(fn: () => void, ms: number, options?: { unref?: boolean }): TimerHandle;
  /** Clears either kind; null or undefined is ignored. */
  clear(handle: TimerHandle | null | undefined): void;
}

/** Node's own timers. */
export const systemTimers: Timers = {
  setTimeout(fn, ms, options) {
    const t = setTimeout(fn, ms);
    if (options?.unref) t.unref();
    return t as unknown as TimerHandle;
  },
  setInterval(fn, ms, options) {
    const t = setInterval(fn, ms);
    if (options?.unref) t.unref();
    return t as unknown as TimerHandle;
  },
  clear(handle) {
    // clearTimeout clears both kinds in Node.
    if (handle) clearTimeout(handle as unknown as NodeJS.Timeout);
  },
};
