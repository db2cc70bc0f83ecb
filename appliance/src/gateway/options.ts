import { promises as fsp } from 'node:fs';
import { cstDate, cstTime, cstMinuteOfDay, formatMessage, type Clock } from '../shared/index.js';
import type { GatewayOptions } from '../config/index.js';

/**
 * The vendor's 其他设置 that are about the world outside the order path: the time file other
 * programs watch as a heartbeat of the gateway, the flag file that exists while the link is down,
 * and the automatic exit after market close. 不接受成交 travels in the logon instead.
 */
export class OptionEffects {
  private timeTimer: NodeJS.Timeout | null = null;
  private exitTimer: NodeJS.Timeout | null = null;
  private flagPresent: boolean | null = null;

  private autoExitArmed = false;

  constructor(
    private readonly options: GatewayOptions,
    private readonly clock: Clock,
    private readonly onAutoExit: () => void,
    private readonly onError: (text: string) => void,
    /** Lines for the operator log with their code (auto exit armed or not). */
    private readonly onNote: (level: 'info' | 'warn', text: string, code: string) => void = () => undefined,
  ) {}

  /** `auto_exit` as the status shows it: the time, and whether it will fire today. */
  get autoExit(): { at: string; armed: boolean } | null {
    const at = this.options.autoExit;
    return at === null ? null : { at: hhmm(at), armed: this.autoExitArmed };
  }

  start(): void {
    const file = this.options.timeFile;
    if (file) {
      // Nobody awaits the heartbeat file's write: one that failed is told to the operator log.
      const write = (): void => {
        this.writeTimeFile(file).catch((err: unknown) =>
          this.onError(`cannot write the time file ${file}: ${(err as Error).message}`),
        );
      };
      write();
      this.timeTimer = setInterval(write, this.options.timeFileIntervalS * 1000);
      this.timeTimer.unref();
    }
    if (this.options.autoExit !== null) {
      const exitAt = this.options.autoExit;
      // Armed only before the exit time: a gateway started after it (an evening drill) does not
      // quit at once. It is not left running for ever either: a gateway serves one trading day
      // and stops at the CST day change (DayGuard, NQ220). Both are said at start (NQ224/NQ225).
      this.autoExitArmed = cstMinuteOfDay(this.clock.now()) < exitAt;
      if (this.autoExitArmed) {
        this.onNote('info', formatMessage('NQ225_AUTO_EXIT_ARMED', { text: hhmm(exitAt) }), 'NQ225');
      } else {
        this.onNote('warn', formatMessage('NQ224_AUTO_EXIT_NOT_ARMED', { text: hhmm(exitAt) }), 'NQ224');
      }
      this.exitTimer = setInterval(() => {
        if (this.autoExitArmed && cstMinuteOfDay(this.clock.now()) >= exitAt) {
          this.autoExitArmed = false;
          this.onAutoExit();
        }
      }, 1000);
      this.exitTimer.unref();
    }
  }

  private async writeTimeFile(file: string): Promise<void> {
    const now = this.clock.now();
    await fsp.writeFile(`${file}.tmp`, `${cstDate(now)} ${cstTime(now)}\n`);
    await fsp.rename(`${file}.tmp`, file);
  }

  /** Create or remove the link-down flag file (创建通信中断标志文件). */
  async linkDown(down: boolean): Promise<void> {
    const file = this.options.linkDownFlag;
    if (!file || this.flagPresent === down) return;
    this.flagPresent = down;
    try {
      if (down) await fsp.writeFile(file, `${cstDate(this.clock.now())} ${cstTime(this.clock.now())}\n`);
      else await fsp.rm(file, { force: true });
    } catch (err) {
      this.onError(`cannot update the link-down flag file ${file}: ${(err as Error).message}`);
    }
  }

  stop(): void {
    if (this.timeTimer) clearInterval(this.timeTimer);
    if (this.exitTimer) clearInterval(this.exitTimer);
    this.timeTimer = this.exitTimer = null;
  }
}

/** Minutes since midnight as HH:MM. */
function hhmm(minute: number): string {
  return `${String(Math.floor(minute / 60)).padStart(2, '0')}:${String(minute % 60).padStart(2, '0')}`;
}
