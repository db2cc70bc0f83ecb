import { promises as fsp } from 'node:fs';
import { cstDate, cstTime, cstMinuteOfDay, type Clock } from '../shared/index.js';
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

  constructor(
    private readonly options: GatewayOptions,
    private readonly clock: Clock,
    private readonly onAutoExit: () => void,
    private readonly onError: (text: string) => void,
  ) {}

  start(): void {
    if (this.options.timeFile) {
      const write = (): void => void this.writeTimeFile();
      write();
      this.timeTimer = setInterval(write, this.options.timeFileIntervalS * 1000);
      this.timeTimer.unref();
    }
    if (this.options.autoExit !== null) {
      const exitAt = this.options.autoExit;
      // Armed only before the exit time: a gateway started after it (an evening drill) runs
      // until the next day's exit time instead of quitting at once.
      let armed = cstMinuteOfDay(this.clock.now()) < exitAt;
      this.exitTimer = setInterval(() => {
        const minute = cstMinuteOfDay(this.clock.now());
        if (minute < exitAt) armed = true;
        else if (armed) {
          armed = false;
          this.onAutoExit();
        }
      }, 1000);
      this.exitTimer.unref();
    }
  }

  private async writeTimeFile(): Promise<void> {
    const file = this.options.timeFile;
    if (!file) return;
    const now = this.clock.now();
    try {
      await fsp.writeFile(`${file}.tmp`, `${cstDate(now)} ${cstTime(now)}\n`);
      await fsp.rename(`${file}.tmp`, file);
    } catch (err) {
      this.onError(`cannot write the time file ${file}: ${(err as Error).message}`);
    }
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
