import type { ManagementTls } from './management-tls.js';

/**
 * The typed result of reading tw.ini. Every room reads its settings from here; nobody parses
 * tw.ini but `config/`. Relative paths in tw.ini are resolved against the directory of tw.ini.
 *
 * tw.ini (INI; `;` or `#` start a comment; keys are lower-case):
 *
 *   [station]
 *   id = W888888T                 ; 小站号
 *   units = 729900,729901         ; 交易单元, six digits each
 *
 *   [files]
 *   orders = NQWT.DBF             ; 委托库
 *   returns = NQHB.DBF            ; 回报库
 *   state_dir = state             ; journal, lock, status snapshot
 *
 *   [servers]                     ; 通信服务器, walked in order of N (server1 first)
 *   server1 = 172.50.101.30:7043  ; host:port, IPv4 or host name, port 1-65535
 *   server1_name = 南方            ; optional label (ServerAddress.name); default "server1"
 *   server2 = 172.60.101.30:7043
 *   server2_name = 福田
 *
 *   [tls]
 *   mode = file                   ; file | ekey | soft
 *   ca = ca.pem                   ; the main station's CA
 *   cert = station.crt
 *   key = station.key             ; mode=file: PEM key, 0600
 *   server_name = mainstation     ; name expected in the main station's certificate
 *
 *   [link]
 *   heartbeat_ms = 10000
 *   silence_ms = 20000            ; give a silent link up well inside the main station's 30 s
 *   connect_timeout_ms = 5000
 *   backoff_initial_ms = 500
 *   backoff_max_ms = 10000
 *   primary_retry_s = 300         ; how long on a fallback server before trying server1 again
 *   answer_timeout_ms = 10000     ; an order unanswered this long: NQ320, next server, resend
 *
 *   [options]                     ; the vendor's 其他设置
 *   no_fills = false              ; 不接受成交
 *   link_down_flag =              ; 创建通信中断标志文件: path of the flag file, empty = off
 *   time_file =                   ; 创建时间文件: path, empty = off
 *   time_file_interval_s = 5      ; 修改间隔为 N 秒
 *   auto_exit =                   ; 程序自动退出: HH:MM (CST), empty = off
 *   archive_old_returns = false   ; move yesterday's NQHB.DBF aside instead of refusing to start
 *   send_block_warn_ms = 15000
 *   invalid_flag_retry_s = 30
 *
 *   [management]
 *   listen = 127.0.0.1:9300
 *   token_file = api.token
 *   alert_webhook = https://…    ; optional: alerts POSTed as JSON
 *   require_checker = no          ; yes: control calls need a checker (复核人) besides the operator
 *   tls = yes                     ; HTTPS; default yes unless listen is loopback (no is refused there)
 *   tls_cert = api.crt            ; in state_dir; made self-signed at the API's first start
 *   tls_key = api.key             ; in state_dir (0600)
 *
 *   [clock] [logs] [ekey] [soft]  ; other rooms' sections: passed through raw in `extra`. The
 *                                 ; templates write [clock] servers = a,b (time servers) and
 *                                 ; [logs] endpoint = URL, bucket = NAME (object storage).
 *
 * Required: station id (/^[A-Z]\d{6}[A-Z]$/) and units (six digits each, no repeats), files
 * orders and returns, at least one server, tls mode; for mode=file also ca, cert and key. Every
 * other key takes the value shown above when absent or empty (`key =` means "not set"; empty
 * link_down_flag, time_file, auto_exit mean off; tls ca/cert/key default to '').
 * On disk: tls files given must exist; the directories of orders, returns, link_down_flag,
 * time_file and token_file must exist (files inside state_dir excepted); state_dir or its parent
 * must exist. Ranges: heartbeat_ms 100-29999 and below silence_ms; silence_ms 300-29999;
 * connect_timeout_ms 100-120000; backoff_initial_ms 10-60000 <= backoff_max_ms <= 300000;
 * primary_retry_s 10-86400; answer_timeout_ms 1000-120000; time_file_interval_s 1-3600; send_block_warn_ms 100-600000;
 * invalid_flag_retry_s 1-3600; auto_exit HH:MM. Booleans: true/false, yes/no, on/off, 1/0.
 * loadConfig (load.ts) checks all of it and reports every problem at once (ConfigError, NQ601).
 */
export interface ServerAddress {
  host: string;
  port: number;
  /** Label for operators: "server1" or the name given in the template (南方, 福田 ...). */
  name: string;
}

export type TlsMode = 'file' | 'ekey' | 'soft';

export interface TlsSettings {
  mode: TlsMode;
  ca: string;
  cert: string;
  key: string;
  serverName: string;
}

export interface LinkSettings {
  heartbeatMs: number;
  silenceMs: number;
  connectTimeoutMs: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  primaryRetryS: number;
  /** An order the main station has not answered within this means it has stalled (NQ320). */
  answerTimeoutMs: number;
}

export interface GatewayOptions {
  noFills: boolean;
  linkDownFlag: string | null;
  timeFile: string | null;
  timeFileIntervalS: number;
  /** Minutes after CST midnight, or null. */
  autoExit: number | null;
  archiveOldReturns: boolean;
  sendBlockWarnMs: number;
  invalidFlagRetryS: number;
}

export interface ManagementSettings {
  host: string;
  port: number;
  tokenFile: string;
  /** POST each raised/cleared alert as JSON here (`alert_webhook`); NQGW_ALERT_WEBHOOK overrides. */
  alertWebhook?: string;
  /**
   * Two-person duty (双人复核, `require_checker`): every state-changing control call must name a
   * checker other than the operator, or it is refused (403) and only the refusal is audited.
   */
  requireChecker: boolean;
  /** HTTPS on the listener (`tls`, `tls_cert`, `tls_key`); absent: plain HTTP on loopback only. */
  tls?: ManagementTls;
}

export interface TwConfig {
  /** Absolute path of the tw.ini this came from. */
  source: string;
  station: { id: string; units: string[] };
  files: { orders: string; returns: string; stateDir: string };
  servers: ServerAddress[];
  tls: TlsSettings;
  link: LinkSettings;
  options: GatewayOptions;
  management: ManagementSettings;
  /** Sections owned by other rooms (clock, logs, ekey ...), passed through as raw key/values. */
  extra: Record<string, Record<string, string>>;
}
