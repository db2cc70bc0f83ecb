import type { TwConfig } from '../config/index.js';
import {
  AgentTlsCredentials,
  TokenAgent,
  SOFT_IN_USE_MESSAGE as SOFT_IN_USE,
  applyModuleEnv,
  closeSoftWindowOnEkey,
  ekeySettingsFromConfig,
  helperTlsConnector,
  openUsbEventSource,
  softModeAllowedToday,
  type EkeySettings,
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
  /** The soft window as of its last look (at most a minute old): the ledger is read, not pushed. */
  private softSeen: { at: number; view: SoftView | null } | null = null;
  private closeUsb: (() => void) | null = null;
  /**
   * `[tls] mode = ekey`: every PKCS#11 call (the slot probe, the connect-time checks) is asked of
   * one token agent process, never made on the gateway's thread; the engine is in the helpers.
   */
  private readonly ekey: { settings: EkeySettings; agent: TokenAgent } | null = null;

  constructor(
    private readonly config: TwConfig,
    private readonly log: OperatorLog,
    private readonly clock: Clock,
    private readonly deps: IdentityDeps = {},
  ) {
    if (config.tls.mode === 'ekey' && !deps.credentials) {
      const settings = ekeySettingsFromConfig(config);
      applyModuleEnv(settings); // inherited by the agent and the helpers
      const agent = new TokenAgent();
      this.ekey = { settings, agent };
      this.credentials = new AgentTlsCredentials(agent, settings, config.tls.ca, config.station.id, clock);
    } else {
      this.credentials = deps.credentials ?? credentialsFor(config, clock);
    }
  }

  /**
   * The link's connector, or undefined for the in-process TLS of link/transport.ts. `link` is
   * what the EKey guard holds and releases.
   */
  connector(link: LinkHold): Connector | undefined {
    if (!this.ekey) return undefined;
    this.guard = new EkeyGuard(this.ekey.settings, this.log, link, this.clock, { agent: this.ekey.agent });
    const connect = helperTlsConnector(
      this.credentials,
      this.config.tls.serverName,
      this.config.link.connectTimeoutMs,
    );
    return this.guard.wrap(connect);
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
    this.ekey?.agent.close();
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
    return { ekey: this.guard?.view() ?? null, soft: this.softView() };
  }

  /**
   * Soft mode: today's window while the rules allow a soft logon today, else null, so a window
   * that ended or a day not confirmed shows as a key not usable (status, SOFT_MODE, metrics).
   * The ledger is read again after a minute, or at each soft logon.
   */
  private softView(fresh = false): SoftView | null {
    if (this.config.tls.mode !== 'soft') return null;
    const now = this.clock.now();
    if (!fresh && this.softSeen && now - this.softSeen.at < 60_000) return this.softSeen.view;
    let view: SoftView | null = null;
    try {
      const today = softModeAllowedToday(this.config, this.clock);
      if (today.ok) {
        const { window, day } = today;
        view = {
          window: `${window.start}..${window.end}`,
          day: day.dayIndex,
          of: day.tradingDays,
          remaining: day.remaining,
          alarm: today.alarm,
        };
      }
    } catch (err) {
      // Not a rule's refusal (those are returned): the ledger or calendar cannot be read at all.
      this.log.error(`软加密记录处理失败: ${(err as Error).message}`, 'NQ168');
    }
    this.softSeen = { at: now, view };
    return view;
  }

  private softLogon(): void {
    const view = this.softView(true);
    if (view === null) return; // refused: the credentials said why before the handshake
    this.log.warn(`${SOFT_IN_USE} (第 ${view.day}/${view.of} 个交易日, 剩余 ${view.remaining})`, 'NQ104');
    if (view.alarm !== null) this.log.warn(view.alarm, 'NQ169');
  }

  private ekeyLogon(): void {
    const closed = closeSoftWindowOnEkey(this.config, this.clock);
    if (closed) {
      this.log.info(`已用Ekey登录, 软加密申请 ${closed.start}..${closed.end} 已关闭`, 'NQ127');
    }
  }
}
