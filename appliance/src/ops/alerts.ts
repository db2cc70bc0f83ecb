import { EventEmitter } from 'node:events';
import type { GatewayStatus, OperatorLine } from '../gateway/index.js';
import { ALERT_KINDS, LINE_ALERTS, LINE_CLEARS, type AlertCode, type Severity } from './catalogue.js';

export interface Alert {
  code: AlertCode;
  severity: Severity;
  title: string;
  /** The vendor's sentence where there is one, else the appliance's own words. */
  words: string;
  vendorCode?: string;
  since: string;
  lastSeen: string;
  count: number;
  clearedAt?: string;
  action: string;
}

export interface AlertEngineOptions {
  now?: () => number;
  /** The main station's heartbeat interval; a heartbeat older than 2.5 times it is stale. */
  heartbeatMs: number;
  /** How long an alert raised by a log line stays active after its last occurrence. */
  eventTtlMs?: number;
  /** Pending orders with nothing sent for this long raise ORDERS_PENDING_LONG. */
  pendingLongMs?: number;
  recentSize?: number;
  /** The link must be not up for this long before LINK_DOWN (a reconnect is not an outage). */
  linkDownGraceMs?: number;
}

interface Active {
  alert: Alert;
  expiresAt: number | null;
}

/**
 * Derives alerts from what the gateway shows (status snapshots) and says (operator log lines).
 * Conditions (link down, clock, holds, notice...) are active while the status shows them; log
 * lines raise an alert that stays active for a while after the last such line. Emits 'raised'
 * and 'cleared' with the Alert; sinks (log, page, webhook) listen.
 */
export class AlertEngine extends EventEmitter {
  private readonly current = new Map<AlertCode, Active>();
  private readonly past: Alert[] = [];
  private readonly now: () => number;
  private pendingSince: number | null = null;
  private downSince: number | null = null;
  private lastSent = -1;

  constructor(private readonly options: AlertEngineOptions) {
    super();
    this.now = options.now ?? Date.now;
  }

  active(): Alert[] {
    return [...this.current.values()].map((a) => a.alert);
  }

  recent(): Alert[] {
    return [...this.past];
  }

  /** Age in seconds of the oldest pending order with nothing sent since (0 when none). */
  pendingAgeS(): number {
    return this.pendingSince === null ? 0 : (this.now() - this.pendingSince) / 1000;
  }

  observeLine(line: OperatorLine): void {
    const ends = line.code ? LINE_CLEARS[line.code] : undefined;
    if (ends) this.clear(ends);
    const code = line.code ? LINE_ALERTS[line.code] : undefined;
    if (!code) return;
    this.raise(code, line.text, line.code, this.now() + (this.options.eventTtlMs ?? 300_000));
  }

  observeStatus(s: GatewayStatus): void {
    const now = this.now();
    if (s.linkState === '正常') this.downSince = null;
    else this.downSince ??= now;
    const downFor = this.downSince === null ? 0 : now - this.downSince;
    this.set('LINK_DOWN', downFor >= (this.options.linkDownGraceMs ?? 3000), `通信状态: ${s.linkState}`);
    const hbAge = s.lastHeartbeatAt === null ? null : now - Date.parse(s.lastHeartbeatAt);
    this.set(
      'HEARTBEAT_STALE',
      s.linkState === '正常' && hbAge !== null && hbAge > this.options.heartbeatMs * 2.5,
      `最后一次主站心跳 ${Math.round((hbAge ?? 0) / 1000)} 秒前`,
    );
    const clock = s.clock?.state ?? 'ok';
    const offset = s.clock?.offsetMs == null ? '' : ` (offset ${s.clock.offsetMs.toFixed(1)} ms)`;
    this.set('CLOCK_WARN', clock === 'warn', `时钟状态 warn${offset}`);
    this.set('CLOCK_ALARM', clock === 'alarm', `时钟状态 alarm${offset}`);
    this.set('ORDERS_HELD', s.holds.length > 0, `暂停发送: ${s.holds.join(', ')}`);
    this.set('TOKEN_MISSING', s.ekey?.present === false, 'Ekey未插入或无响应, 委托在委托库中等待', 'NQ124');
    const soft = s.soft;
    this.set(
      'SOFT_MODE',
      soft != null,
      soft
        ? `小站使用软加密: ${soft.window}, 第 ${soft.day}/${soft.of} 个交易日, 剩余 ${soft.remaining}`
        : '',
      'NQ104',
    );
    this.set('NOTICE', s.notice !== '', `主站特别提示: ${s.notice}`, s.notice === '' ? undefined : 'NQ307');
    if (s.pending === 0 || s.sent !== this.lastSent) this.pendingSince = s.pending > 0 ? now : null;
    this.lastSent = s.sent;
    const limit = this.options.pendingLongMs ?? 60_000;
    this.set(
      'ORDERS_PENDING_LONG',
      this.pendingSince !== null && now - this.pendingSince > limit,
      `待发委托 ${s.pending} 笔, ${Math.round(this.pendingAgeS())} 秒未发出`,
    );
    for (const [code, a] of this.current) {
      if (a.expiresAt !== null && a.expiresAt <= now) this.clear(code);
    }
  }

  /** A condition alert: raised while `on`, cleared when not; new words re-raise it. */
  private set(code: AlertCode, on: boolean, words: string, vendorCode?: string): void {
    const existing = this.current.get(code);
    if (on && existing && existing.alert.words !== words && code === 'NOTICE') this.clear(code);
    if (on) this.raise(code, words, vendorCode, null);
    else if (existing && existing.expiresAt === null) this.clear(code);
  }

  private raise(
    code: AlertCode,
    words: string,
    vendorCode: string | undefined,
    expiresAt: number | null,
  ): void {
    const at = new Date(this.now()).toISOString();
    const existing = this.current.get(code);
    if (existing) {
      existing.alert.lastSeen = at;
      if (expiresAt !== null) {
        existing.alert.count++;
        existing.alert.words = words;
        existing.expiresAt = expiresAt;
      }
      return;
    }
    const kind = ALERT_KINDS[code];
    const alert: Alert = {
      code,
      severity: kind.severity,
      title: kind.title,
      words,
      ...(vendorCode ? { vendorCode } : {}),
      since: at,
      lastSeen: at,
      count: 1,
      action: kind.action,
    };
    this.current.set(code, { alert, expiresAt });
    this.emit('raised', alert);
  }

  private clear(code: AlertCode): void {
    const a = this.current.get(code);
    if (!a) return;
    this.current.delete(code);
    a.alert.clearedAt = new Date(this.now()).toISOString();
    this.past.unshift(a.alert);
    if (this.past.length > (this.options.recentSize ?? 100)) this.past.pop();
    this.emit('cleared', a.alert);
  }
}
