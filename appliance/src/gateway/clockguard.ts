import type { TwConfig } from '../config/index.js';
import { ClockWatchdog, clockSettingsFromConfig, describeChange, type ClockState } from '../clock/index.js';
import type { OperatorLog } from './oplog.js';

export const CLOCK_HOLD = 'clock';

/**
 * Joins the NTP drift watchdog to the order path: every change of the clock's state goes to the
 * operator log (an alarm as an error), and with `policy = hold` an alarm holds new orders in
 * NQWT.DBF until the clock is back inside the limit. Without a [clock] section there is no
 * watchdog (the lab and tests that do not care about time).
 */
export class ClockGuard {
  private readonly watchdog: ClockWatchdog;

  private constructor(
    watchdog: ClockWatchdog,
    log: OperatorLog,
    hold: (reason: string, on: boolean) => void,
  ) {
    this.watchdog = watchdog;
    watchdog.on('change', (change) => {
      const text = `时钟 ${change.from} → ${change.to}: ${describeChange(change)}`;
      if (change.to === 'alarm') log.error(text, 'NQ451');
      else if (change.to === 'warn' || change.to === 'unknown') log.warn(text, 'NQ450');
      else log.info(text, 'NQ452');
      hold(CLOCK_HOLD, change.holdOrders);
    });
    watchdog.on('chrony', (d) =>
      d.disagrees ? log.warn(`chrony: ${d.note}`, 'NQ453') : log.info(`chrony: ${d.note}`, 'NQ453'),
    );
  }

  static fromConfig(
    config: TwConfig,
    log: OperatorLog,
    hold: (reason: string, on: boolean) => void,
  ): ClockGuard | null {
    if (!config.extra['clock']) return null;
    return new ClockGuard(new ClockWatchdog({ settings: clockSettingsFromConfig(config) }), log, hold);
  }

  start(): void {
    this.watchdog.start();
  }

  /** Resolves once the round in flight is cancelled and its sockets are closed. */
  stop(): Promise<void> {
    return this.watchdog.stop();
  }

  get state(): ClockState {
    return this.watchdog.state;
  }

  get offsetMs(): number | null {
    return this.watchdog.last?.offsetMs ?? null;
  }
}
