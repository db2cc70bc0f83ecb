import { AppError, formatMessage } from '../shared/index.js';
import type { ServerAddress } from '../config/index.js';

/**
 * Typed errors of the link room. Each carries the server it concerns and, where there is one, the
 * underlying Node/OpenSSL error as `cause`. Codes NQ303/NQ309 reuse the vendor's catalogue words;
 * NQ39x are the project's own (FrameError, in frame.ts, is NQ390).
 */

export function describeServer(server: ServerAddress): string {
  return `${server.name} ${server.host}:${server.port}`;
}

/** Base of the errors a connection attempt can end with. */
export class LinkConnectError extends AppError {
  constructor(
    code: string,
    message: string,
    readonly server: ServerAddress,
    hint?: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, hint, options);
  }
}

/** TCP connect plus TLS handshake did not finish within the connect timeout. */
export class ConnectTimeoutError extends LinkConnectError {
  constructor(server: ServerAddress, readonly timeoutMs: number) {
    super(
      'NQ303',
      `${formatMessage('NQ303_TIMEOUT_RECONNECT')} (${describeServer(server)}, ${timeoutMs} ms)`,
      server,
      'Check the route to the main station (增值业务网专线 / VPC routing) and that the server is up.',
    );
  }
}

/** Nobody listens at the address (ECONNREFUSED), or the host is unreachable. */
export class ConnectRefusedError extends LinkConnectError {
  constructor(server: ServerAddress, readonly errno: string, cause?: unknown) {
    super(
      'NQ391',
      `连接被拒绝: ${describeServer(server)} (${errno})`,
      server,
      'The server is not listening; the gateway moves on to the next server.',
      { cause },
    );
  }
}

/**
 * The TCP connection was made but the TLS handshake failed: unknown CA, wrong server name,
 * expired certificate, our client certificate refused, or the EKey failing to sign (CK_RV=0x30).
 * `reason` is OpenSSL's (or Node's) own words.
 */
export class HandshakeError extends LinkConnectError {
  constructor(server: ServerAddress, readonly reason: string, cause?: unknown) {
    super(
      'NQ309',
      `${formatMessage('NQ309_HANDSHAKE_FAILED')}: ${reason}`,
      server,
      'Check the CA, server_name and the station certificate; with an EKey, re-plug it or use the spare.',
      { cause },
    );
  }
}

/** Any other socket error while connecting (DNS, reset before connect ...). */
export class ConnectFailedError extends LinkConnectError {
  constructor(server: ServerAddress, reason: string, cause?: unknown) {
    super('NQ392', `连接失败: ${describeServer(server)}: ${reason}`, server, undefined, { cause });
  }
}

/** The connect attempt was abandoned because the client was stopped or switched servers. */
export class ConnectAbortedError extends LinkConnectError {
  constructor(server: ServerAddress) {
    super('NQ394', `连接已取消: ${describeServer(server)}`, server);
  }
}

/** The peer broke the protocol: a sequence gap or repeat, a message out of place, a bad body. */
export class LinkProtocolError extends AppError {
  constructor(message: string) {
    super('NQ393', `协议错误: ${message}`, 'The link is dropped and rebuilt.');
  }
}
