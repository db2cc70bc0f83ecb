import { TokenAgent, TokenWatcher, type EkeySettings, type UsbEventSource } from '../ekey/index.js';
import type { Connector } from '../link/index.js';
import type { Clock } from '../shared/index.js';
import type { OperatorLog } from './oplog.js';

/** What the guard does to the link: close it and wait, or connect at once. */
export interface LinkHold {
  hold(reason: string): void;
  release(reason: string): void;
}

export interface EkeyView {
  /** Is the token in its slot (null before the first look)? */
  present: boolean | null;
  /** Token failures (removals, device errors) within the last 24 h. */
  failures: number;
}

export const EKEY_HOLD = 'ekey-absent';

/**
 * Hot-plug for `[tls] mode = ekey`. Watches the token's slot (every `[ekey] poll_ms`, and at once
 * on an EKey's USB attach/detach); when the token goes, the link is closed cleanly and held
 * (orders wait in NQWT.DBF); when it is back, the link connects at once through a new TLS helper
 * process (a fresh pkcs11 engine), with no restart. The slot is asked of the token agent process
 * (TokenAgent): a driver that hangs stalls that process, is killed after 3 s and reads as "not
 * usable", never stalling the gateway. Removals and device errors on connect are counted; from
 * the third within 24 h on, each one logs the vendor's advice to use the spare EKey (NQ126).
 */
export class EkeyGuard {
  private watcher: TokenWatcher | null = null;
  private removedAt: number | null = null;
  private readonly probe: () => boolean | Promise<boolean>;
  private readonly agent: TokenAgent | null = null;
  private readonly usbIds: string[];
  private readonly intervalMs: number | undefined;

  constructor(
    settings: EkeySettings,
    private readonly log: OperatorLog,
    private readonly link: LinkHold,
    private readonly clock: Clock,
    options: { intervalMs?: number; probe?: () => boolean | Promise<boolean>; agent?: TokenAgent } = {},
  ) {
    if (options.probe) this.probe = options.probe;
    else {
      const agent = options.agent ?? new TokenAgent();
      this.agent = agent;
      this.probe = () => agent.probe(settings.module, settings);
    }
    this.usbIds = settings.usbIds ?? [];
    this.intervalMs = options.intervalMs ?? settings.pollMs;
  }

  /**
   * First look at the slot (an absent token holds the link from the outset), then watch it:
   * polling, and `usb` attach/detach events as hints when the `usb` package works here.
   */
  async start(usb?: UsbEventSource): Promise<void> {
    const watcher = new TokenWatcher({
      probe: this.probe,
      clock: this.clock,
      ...(usb ? { usb } : {}),
      ...(this.intervalMs !== undefined ? { intervalMs: this.intervalMs } : {}),
      usbIds: this.usbIds,
    });
    watcher.on('removed', () => this.onRemoved());
    watcher.on('returned', () => this.onReturned());
    watcher.on('spare', (advice: string) => this.log.warn(advice, 'NQ126'));
    this.watcher = watcher;
    await watcher.start();
    if (watcher.present === false) {
      this.log.error('未检测到Ekey, 请插入Ekey (直通或USB/IP挂载); 委托在委托库中等待', 'NQ124');
      this.link.hold(EKEY_HOLD);
    }
  }

  async stop(): Promise<void> {
    await this.watcher?.stop();
  }

  view(): EkeyView {
    return { present: this.watcher?.present ?? null, failures: this.watcher?.failures() ?? 0 };
  }

  /** The connector, counting the token's device errors toward the spare-EKey advice. */
  wrap(connect: Connector): Connector {
    return async (server, signal) => {
      try {
        return await connect(server, signal);
      } catch (err) {
        // A device error (NQ121) or a driver that hung (NQ129), from the agent or the helper.
        const code = (err as { code?: string } | null)?.code;
        if ((code === 'NQ121' || code === 'NQ129') && this.watcher) {
          // A device error may mean the token just went: look now. Gone, the removal counts as
          // the failure (once); still there, the device error itself does.
          await this.watcher.check();
          if (this.watcher.present === true) this.watcher.recordFailure();
        }
        throw err;
      }
    };
  }

  private onRemoved(): void {
    this.removedAt = this.clock.now();
    const hung = this.agent?.hung === true ? ' (Ekey驱动无应答)' : '';
    this.log.error(`Ekey已拔出或无响应${hung}, 连接已关闭; 委托在委托库中等待, 插回Ekey后自动重连`, 'NQ124');
    this.watcher?.recordFailure();
    this.link.hold(EKEY_HOLD);
  }

  private onReturned(): void {
    const away =
      this.removedAt === null ? '' : ` (离开 ${((this.clock.now() - this.removedAt) / 1000).toFixed(1)} 秒)`;
    this.removedAt = null;
    this.log.info(`Ekey已插回${away}, 重新连接主站`, 'NQ125');
    this.link.release('Ekey已插回');
  }
}
