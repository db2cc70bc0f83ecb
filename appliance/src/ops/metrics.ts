import { Counter, Gauge, Registry } from 'prom-client';
import type { GatewayStatus } from '../gateway/index.js';
import type { AlertEngine } from './alerts.js';
import { ALERT_KINDS } from './catalogue.js';

export interface MetricsSource {
  status(): GatewayStatus;
  alerts: AlertEngine;
  /** Link (re)connections since start; the first logon is not a reconnect. */
  reconnects(): number;
  serverIndex(): number;
  tlsMode: string;
  /** Bytes of log not yet in object storage, when log shipping runs (issue 6). */
  shippingBacklogBytes?: () => number;
}

const CLOCK_STATES = ['ok', 'warn', 'alarm', 'unknown'] as const;

/**
 * /metrics: every value is read from the gateway's status at scrape time (collect callbacks),
 * so nothing here touches the order path. Counters mirror the gateway's own counts (they restart
 * with the process, which Prometheus' rate() handles). No default process metrics: node_exporter and the process
 * collector of the host cover them, and prom-client's own fail `promtool check metrics` lint.
 */
export function createMetrics(src: MetricsSource): Registry {
  const registry = new Registry();
  let s: GatewayStatus = src.status();
  const refresh = (): GatewayStatus => (s = src.status());

  new Counter({
    name: 'nqgw_orders_total',
    help: 'Orders by outcome: sent to the main station, accepted (成功委托), rejected (非法委托).',
    labelNames: ['outcome'],
    registers: [registry],
    collect() {
      refresh();
      this.reset();
      this.inc({ outcome: 'sent' }, s.sent);
      this.inc({ outcome: 'accepted' }, s.accepted);
      this.inc({ outcome: 'rejected' }, s.rejected);
    },
  });
  new Counter({
    name: 'nqgw_returns_total',
    help: 'Return rows written to NQHB.DBF today (即时回报).',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(s.returns);
    },
  });
  new Counter({
    name: 'nqgw_link_reconnects_total',
    help: 'Logons to the main station after the first one since the gateway started.',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(src.reconnects());
    },
  });
  const gauge = (name: string, help: string, value: () => number): void => {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(value());
      },
    });
  };
  gauge(
    'nqgw_start_time_seconds',
    'When the gateway process started (Unix time).',
    () => Date.parse(s.startedAt) / 1000,
  );
  gauge('nqgw_orders_pending', 'Orders in NQWT.DBF not yet sent (待发委托).', () => s.pending);
  gauge(
    'nqgw_orders_pending_age_seconds',
    'How long orders have been pending with none sent (0 when none).',
    () => src.alerts.pendingAgeS(),
  );
  gauge(
    'nqgw_orders_awaiting_answer',
    'Orders sent whose receipt from the main station is not in yet.',
    () => s.awaitingAnswer,
  );
  gauge('nqgw_orders_held', '1 while sending is held (operator pause, clock alarm), else 0.', () =>
    s.holds.length > 0 ? 1 : 0,
  );
  gauge('nqgw_link_up', '1 while 通信状态 is 正常 (logged on), else 0.', () =>
    s.linkState === '正常' ? 1 : 0,
  );
  gauge(
    'nqgw_link_server_index',
    'Server in use, as numbered in tw.ini (server1 = 1).',
    () => src.serverIndex() + 1,
  );
  gauge(
    'nqgw_heartbeat_age_seconds',
    'Seconds since the last heartbeat from the main station (since start when none yet).',
    () => Math.max(0, (Date.now() - Date.parse(s.lastHeartbeatAt ?? s.startedAt)) / 1000),
  );
  gauge(
    'nqgw_clock_offset_seconds',
    'Offset of the local clock from the time servers (0 without a [clock] section).',
    () => (s.clock?.offsetMs ?? 0) / 1000,
  );
  new Gauge({
    name: 'nqgw_clock_state',
    help: 'NTP drift watchdog state: 1 for the current state, 0 for the others.',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const now = s.clock?.state ?? 'unknown';
      for (const st of CLOCK_STATES) this.set({ state: st }, st === now ? 1 : 0);
    },
  });
  new Gauge({
    name: 'nqgw_alerts_active',
    help: 'Active alerts by code (1 active, 0 not).',
    labelNames: ['code', 'severity'],
    registers: [registry],
    collect() {
      const on = new Set(src.alerts.active().map((a) => a.code));
      for (const [code, kind] of Object.entries(ALERT_KINDS))
        this.set({ code, severity: kind.severity }, on.has(code as never) ? 1 : 0);
    },
  });
  gauge(
    'nqgw_token_present',
    'The station key is usable: 1 for a key file, for an EKey in its slot, or for soft mode logged on in its window; 0 otherwise.',
    () => tokenPresent(src.tlsMode, refresh()),
  );
  gauge(
    'nqgw_token_failures',
    'EKey failures (removals, device errors) in the last 24 h; the vendor advises the spare EKey after repeated ones.',
    () => refresh().ekey?.failures ?? 0,
  );
  gauge(
    'nqgw_soft_window_sessions_left',
    'Trading days (sessions) left after today in the soft-encryption window, as of the last soft logon; -1 when not in soft mode.',
    () => refresh().soft?.remaining ?? -1,
  );
  gauge(
    'nqgw_log_shipping_backlog_bytes',
    'Bytes of log spooled and not yet shipped to object storage (0 when shipping is off).',
    () => src.shippingBacklogBytes?.() ?? 0,
  );
  return registry;
}

function tokenPresent(mode: string, s: GatewayStatus): number {
  if (mode === 'ekey') return s.ekey?.present === true ? 1 : 0;
  if (mode === 'soft') return s.soft !== null && s.soft !== undefined ? 1 : 0;
  return 1;
}
