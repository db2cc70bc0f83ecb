import type { TwConfig } from '../config/index.js';
import {
  closeSoftWindowOnEkey,
  helperTlsConnector,
  openUsbEventSource,
  softModeAllowedToday,
  type UsbEventSource,
} from '../ekey/index.js';
import type { Connector, TlsCredentials } from '../link/index.js';
import type { Clock } from '../shared/index.js';
import { credentialsFor } from './credentials.js';
import { EkeyGuard, type EkeyView, type LinkHold } from './ekeyguard.js';
import type { OperatorLog } from './oplog.js';

/** The soft-encryption window as the status shows it (mode soft). */
export interface SoftView {
  window: string;
  /** Today is trading day `day` of `of` in the window; `remaining` trading days follow. */
  day: number;
  of: number;
  remaining: number;
  alarm: string | null;
}

export interface IdentityDeps {
  credentials?: TlsCredentials;
  usb?: UsbEventSource;
}

/**
 * The station's identity on the link, by `[tls] mode`: which credentials, which connector (the
 * EKey's handshake runs in a TLS helper process, see ekey/tls-helper.ts), the EKey's hot-plug
 * guard, and what a logon means: in soft mode the vendor's 小站使用软加密 (and the window's alarm),
 * with the EKey a soft window still open is closed (going back to the EKey ends it).
 */
export class StationIdentity {
  readonly credentials: TlsCredentials;
  private guard: EkeyGuard | null = null;
  private soft: SoftView | null = null;
  private closeUsb: (() => void) | null = null;

  constructor(
    private readonly config: TwConfig,
    private readonly log: OperatorLog,
    private readonly clock: Clock,
    private readonly deps: IdentityDeps = {},
  ) {
    this.credentials = deps.credentials ?? credentialsFor(config, clock);
  }

  /**
   * The link's connector, or undefined for the in-process TLS of link/transport.ts. `link` is
   * what the EKey guard holds and releases.
   */
  connector(link: LinkHold): Connector | undefined {
    if (this.config.tls.mode !== 'ekey' || this.deps.credentials) return undefined;
    this.guard = EkeyGuard.fromConfig(this.config, this.log, link, this.clock);
    const connect = helperTlsConnector(
      this.credentials,
      this.config.tls.serverName,
      this.config.link.connectTimeoutMs,
    );
    return this.guard ? this.guard.wrap(connect) : connect;
  }

  /** Before the link starts: an absent EKey holds it from the outset. */
  async start(): Promise<void> {
    if (!this.guard) return;
    let usb = this.deps.usb;
    if (!usb) {
      const opened = await openUsbEventSource();
      if (opened.source) {
        usb = opened.source;
        this.closeUsb = () => opened.close();
      } else {
        this.log.info(`USB 插拔事件不可用 (${opened.reason}); 按 [ekey] poll_ms 定时检查Ekey`, 'NQ128');
      }
    }
    await this.guard.start(usb);
  }

  async stop(): Promise<void> {
    await this.guard?.stop();
    this.closeUsb?.();
    this.closeUsb = null;
  }

  /** After each successful logon. */
  onLogon(): void {
    try {
      if (this.config.tls.mode === 'soft') this.softLogon();
      else if (this.config.tls.mode === 'ekey') this.ekeyLogon();
    } catch (err) {
      // The ledger is the audit trail: a failure to read or write it is loud, never silent.
      const e = err as { code?: string; message?: string };
      this.log.error(`软加密记录处理失败: ${e.message ?? String(err)}`, e.code ?? 'NQ168');
    }
  }

  view(): { ekey: EkeyView | null; soft: SoftView | null } {
    return { ekey: this.guard?.view() ?? null, soft: this.soft };
  }

  private softLogon(): void {
    const today = softModeAllowedToday(this.config, this.clock);
    if (!today.ok) {
      // The credentials refused before the handshake; reaching here means the day turned.
      this.log.error(today.error.message, today.error.code);
      return;
    }
    const { window, day } = today;
    this.soft = {
      window: `${window.start}..${window.end}`,
      day: day.dayIndex,
      of: day.tradingDays,
      remaining: day.remaining,
      alarm: today.alarm,
    };
    this.log.warn(
      `${today.message} (第 ${day.dayIndex}/${day.tradingDays} 个交易日, 剩余 ${day.remaining})`,
      'NQ104',
    );
    if (today.alarm !== null) this.log.warn(today.alarm, 'NQ169');
  }

  private ekeyLogon(): void {
    const closed = closeSoftWindowOnEkey(this.config, this.clock);
    this.soft = null;
    if (closed) {
      this.log.info(`已用Ekey登录, 软加密申请 ${closed.start}..${closed.end} 已关闭`, 'NQ127');
    }
  }
}
