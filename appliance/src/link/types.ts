import type { Clock } from '../shared/index.js';
import type { LinkSettings, ServerAddress } from '../config/index.js';
import type { LinkConnection, TlsCredentials } from './transport.js';
import type { LogonAnswerBody, OrderAnswerBody, ReturnBody } from './messages.js';

/**
 * The session's states. Transitions:
 *   stopped  --start()-->                 connecting
 *   connecting --TCP/TLS up-->            logging-on   (Logon sent)
 *   connecting --failed/timed out-->      backoff      (next server)
 *   logging-on --LogonAnswer ok-->        up           (backoff reset once up for heartbeat_ms)
 *   logging-on --ok=false-->              backoff      (same server, 'refused')
 *   logging-on --no answer in time-->     backoff      (next server)
 *   up --silence/close/error/protocol/unanswered orders--> backoff (next server)
 *   up --quit-->                          backoff      (same server)
 *   backoff --timer-->                    connecting
 *   any --stop()-->                       stopped
 */
export type LinkState = 'stopped' | 'connecting' | 'logging-on' | 'up' | 'backoff';

export interface LinkLogLine {
  level: 'info' | 'warn' | 'error';
  /** Message code (NQ3xx) when the line is one of the vendor's sentences or a typed error. */
  code?: string;
  text: string;
}

export interface LinkEvents {
  state: [state: LinkState, server: ServerAddress | null];
  up: [info: { server: ServerAddress; answer: LogonAnswerBody }];
  down: [info: { server: ServerAddress; reason: string }];
  /** Receipts of orders, batched per incoming data chunk, in arrival order. */
  orderAnswers: [answers: OrderAnswerBody[]];
  /** Returns (rows for NQHB.DBF), batched per incoming data chunk, in arrival order. */
  returns: [returns: ReturnBody[]];
  notice: [text: string];
  /** A heartbeat from the main station after logon (cutover verifies the first one). */
  heartbeat: [];
  quit: [reason: string];
  market: [state: string];
  refused: [answer: LogonAnswerBody];
  /** The transport drained after a write that filled its buffer. */
  drain: [];
  /** A write has not drained for this many ms (repeated every 5 s while blocked). */
  sendBlocked: [ms: number];
  log: [line: LinkLogLine];
}

export interface LinkClientOptions {
  station: string;
  units: string[];
  auth: 'file' | 'ekey' | 'soft';
  /** tw.ini [servers], walked in order. */
  servers: ServerAddress[];
  link: LinkSettings;
  /** Name expected in the main station's certificate. */
  serverName: string;
  credentials: TlsCredentials;
  clock?: Clock;
  /** Uniform in [0, 1), for the backoff jitter. */
  random?: () => number;
  /** The highest HBXH already durable in NQHB.DBF; asked at each logon. */
  lastReturnSeq: () => number;
  /** The gateway's trading date (YYYYMMDD, CST); asked at each logon. */
  tradingDate: () => string;
  /** Warn (NQ308) when a write has not drained for more than this (vendor: 15000). */
  sendBlockWarnMs: number;
  /** Replace the TLS transport (tests). Should honour the signal; it is aborted by stop(). */
  connect?: (server: ServerAddress, signal: AbortSignal) => Promise<LinkConnection>;
  /** 不接受成交: ask the main station for no fill returns (sent in the Logon when true). */
  noFills?: boolean;
  /** Software name and version sent in the Logon. */
  software?: string;
}
