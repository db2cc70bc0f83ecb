import { AppError } from '../shared/index.js';

/**
 * One class per way a time query or the clock settings can fail. Every class has its own stable
 * `code` (alerts, scripts and the `clock check --json` output key on it) and names the server it
 * concerns, so an operator reading "CLOCK_KISS RATE from 10.0.0.2:123" knows where to look.
 */

/** Base of every failure of one SNTP query. */
export class SntpError extends AppError {
  constructor(
    code: string,
    /** "host:port" of the server queried. */
    readonly server: string,
    message: string,
    hint?: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, hint, options);
  }
}

/** No valid answer within `timeout_ms`. */
export class SntpTimeoutError extends SntpError {
  constructor(server: string, timeoutMs: number) {
    super(
      'CLOCK_TIMEOUT',
      server,
      `time server ${server} did not answer within ${timeoutMs} ms`,
      'check that the server is reachable over UDP (security group, route) and that it serves NTP',
    );
  }
}

/**
 * Replies arrived, but none echoed our transmit timestamp in its originate field: a stale,
 * duplicated or forged answer (RFC 5905 "bogus" packet). They are ignored while we keep waiting;
 * this error is raised instead of a plain timeout when nothing valid follows.
 */
export class SntpOriginateMismatchError extends SntpError {
  constructor(
    server: string,
    readonly bogusReplies: number,
  ) {
    super(
      'CLOCK_BAD_ORIGINATE',
      server,
      `time server ${server} answered ${bogusReplies} time(s) with an originate timestamp that is not ours`,
      'a reply to another request, a replayed packet, or a forged one: look at what sits between us and the server',
    );
  }
}

/** The reply is not mode 4 (server). */
export class SntpBadModeError extends SntpError {
  constructor(
    server: string,
    readonly mode: number,
  ) {
    super('CLOCK_BAD_MODE', server, `time server ${server} answered in mode ${mode}, expected 4 (server)`);
  }
}

/** Leap indicator 3: the server says its own clock is not synchronised. */
export class SntpUnsynchronisedError extends SntpError {
  constructor(server: string) {
    super(
      'CLOCK_UNSYNCHRONISED',
      server,
      `time server ${server} is not synchronised (leap indicator 3)`,
      'the server has lost its own time source; its answer cannot be trusted',
    );
  }
}

/** Stratum 0: a kiss-o'-death packet; `kissCode` is the four ASCII letters of its reference id. */
export class SntpKissOfDeathError extends SntpError {
  constructor(
    server: string,
    readonly kissCode: string,
  ) {
    super(
      'CLOCK_KISS',
      server,
      `time server ${server} sent kiss-o'-death ${kissCode}`,
      kissCode === 'RATE'
        ? 'the server asks us to query less often: raise interval_s'
        : kissCode === 'DENY' || kissCode === 'RSTR'
          ? 'the server refuses to serve this host: ask the cloud provider to allow it'
          : undefined,
    );
  }
}

/** Stratum above 15 (16 = unsynchronised, 17-255 reserved). */
export class SntpBadStratumError extends SntpError {
  constructor(
    server: string,
    readonly stratum: number,
  ) {
    super('CLOCK_BAD_STRATUM', server, `time server ${server} reports stratum ${stratum}, above 15`);
  }
}

/** A reply that is not a usable NTP packet: too short, wrong version, zero transmit timestamp. */
export class SntpMalformedError extends SntpError {
  constructor(server: string, detail: string) {
    super('CLOCK_MALFORMED', server, `time server ${server} sent a malformed reply: ${detail}`);
  }
}

/** Name resolution or socket failure (including ICMP port unreachable). */
export class SntpNetworkError extends SntpError {
  constructor(server: string, detail: string, cause?: unknown) {
    super('CLOCK_NETWORK', server, `cannot query time server ${server}: ${detail}`, undefined, { cause });
  }
}

/** The query was cancelled (the watchdog stopped). */
export class SntpAbortedError extends SntpError {
  constructor(server: string) {
    super('CLOCK_ABORTED', server, `query to time server ${server} cancelled`);
  }
}

/** A bad key or value in the [clock] section of tw.ini; `key` names it. */
export class ClockSettingsError extends AppError {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super('CLOCK_SETTING', `[clock] ${key}: ${message}`, 'fix the [clock] section of tw.ini (docs/clock.md)');
  }
}

/** `chronyc -c tracking` printed something we cannot read. */
export class ChronyParseError extends AppError {
  constructor(detail: string) {
    super('CLOCK_CHRONY_PARSE', `cannot read chronyc tracking output: ${detail}`);
  }
}
