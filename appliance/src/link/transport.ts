import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import * as tls from 'node:tls';
import { AppError } from '../shared/index.js';
import type { ServerAddress } from '../config/index.js';
import {
  ConnectAbortedError,
  ConnectFailedError,
  ConnectRefusedError,
  ConnectTimeoutError,
  HandshakeError,
  type LinkConnectError,
} from './errors.js';

/**
 * The network as the session sees it: a byte pipe with four events (QuickFIX/J's Responder).
 * A TLS socket is one implementation (`socketConnection`); tests use an in-memory fake.
 */
export interface LinkConnection {
  /** Queue bytes; false when the transport's buffer is full ('drain' follows). */
  write(data: Buffer): boolean;
  /** Close gracefully after queued bytes. */
  end(): void;
  /** Close now; 'close' follows. */
  destroy(): void;
  on(event: 'data', listener: (chunk: Buffer) => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  on(event: 'drain', listener: () => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
  /** Subject of the peer's certificate (for the NQ310 log line); absent without TLS. */
  readonly peer?: string;
}

export type TlsSecureOptions = Pick<
  tls.ConnectionOptions,
  'ca' | 'cert' | 'key' | 'pfx' | 'passphrase' | 'privateKeyEngine' | 'privateKeyIdentifier'
>;

/**
 * Where the station's TLS identity comes from. Asked again at every connect, so a renewed
 * certificate, a re-plugged EKey or a soft-encryption certificate is picked up without a restart.
 * Implementations: FileTlsCredentials here; the EKey and soft-encryption ones live in `ekey/`.
 */
export interface TlsCredentials {
  /** One line for operators: which certificate/key this is. */
  describe(): string;
  secureContextOptions(): Promise<TlsSecureOptions>;
}

/** The certificate files could not be read. */
export class CredentialsError extends AppError {
  constructor(
    readonly path: string,
    cause: unknown,
  ) {
    super(
      'NQ395',
      `证书文件读取失败: ${path}`,
      'Check [tls] ca/cert/key in tw.ini and the file permissions.',
      {
        cause,
      },
    );
  }
}

/** PEM files on disk (tw.ini `[tls] mode = file`), read afresh at each connect. */
export class FileTlsCredentials implements TlsCredentials {
  constructor(
    readonly caPath: string,
    readonly certPath: string,
    readonly keyPath: string,
    private readonly passphrase?: string,
  ) {}

  describe(): string {
    return `file cert=${this.certPath} key=${this.keyPath} ca=${this.caPath}`;
  }

  async secureContextOptions(): Promise<TlsSecureOptions> {
    const read = async (path: string): Promise<Buffer> => {
      try {
        return await readFile(path);
      } catch (err) {
        throw new CredentialsError(path, err);
      }
    };
    const [ca, cert, key] = await Promise.all([read(this.caPath), read(this.certPath), read(this.keyPath)]);
    return this.passphrase === undefined ? { ca, cert, key } : { ca, cert, key, passphrase: this.passphrase };
  }
}

export interface ConnectTlsOptions {
  /** The name the main station's certificate must carry (tw.ini `[tls] server_name`). */
  serverName: string;
  /** TCP connect plus TLS handshake must finish within this. */
  timeoutMs: number;
  signal?: AbortSignal;
}

const REFUSED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

/**
 * Name a failed connect attempt: refused/unreachable, a TLS handshake failure (the TCP connection
 * was up, or OpenSSL's own code), or any other connect failure. Shared with the EKey's TLS helper
 * process, which reports the same Node error fields over its control channel.
 */
export function classifyConnectError(
  server: ServerAddress,
  err: NodeJS.ErrnoException,
  tcpUp: boolean,
): LinkConnectError {
  const code = err.code ?? '';
  if (REFUSED.has(code)) return new ConnectRefusedError(server, code, err);
  const tlsCode =
    code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || /CERT|_SIGNATURE|ISSUER/.test(code);
  if (tcpUp || tlsCode) return new HandshakeError(server, err.message || code, err);
  return new ConnectFailedError(server, err.message || code, err);
}

/**
 * How the station's TLS client checks the main station, in whichever process makes the connection
 * (here, or the EKey's TLS helper, ekey/tls-helper-child.ts): TLS 1.2 at least, the certificate
 * verified (against the `ca` the caller adds: no system roots), and checked against `serverName`,
 * not against the IP address dialled. SNI carries the name only when it is not an IP address.
 */
export function stationTlsOptions(
  serverName: string,
): Pick<tls.ConnectionOptions, 'minVersion' | 'rejectUnauthorized' | 'servername' | 'checkServerIdentity'> {
  return {
    minVersion: 'TLSv1.2',
    rejectUnauthorized: true,
    ...(isIP(serverName) === 0 ? { servername: serverName } : {}),
    checkServerIdentity: (_host, cert) => tls.checkServerIdentity(serverName, cert),
  };
}

/**
 * Open a TLS connection to one main-station server with `stationTlsOptions`: only the configured
 * CA trusted (no system roots). Rejects with ConnectTimeoutError, ConnectRefusedError,
 * HandshakeError, ConnectFailedError or ConnectAbortedError.
 */
export async function connectTls(
  server: ServerAddress,
  credentials: TlsCredentials,
  options: ConnectTlsOptions,
): Promise<tls.TLSSocket> {
  const secure = await credentials.secureContextOptions();
  if (secure.ca === undefined) {
    throw new AppError('NQ396', `${credentials.describe()}: 未配置主站CA证书`, 'Set [tls] ca in tw.ini.');
  }
  if (options.signal?.aborted) throw new ConnectAbortedError(server);
  const { serverName, timeoutMs, signal } = options;
  return new Promise<tls.TLSSocket>((resolve, reject) => {
    let tcpUp = false;
    let settled = false;
    const socket = tls.connect({
      host: server.host,
      port: server.port,
      ...secure,
      ...stationTlsOptions(serverName),
    });
    const onConnect = (): void => {
      tcpUp = true;
    };
    const onSecure = (): void => {
      if (settled) return;
      settled = true;
      cleanup();
      resolve(socket);
    };
    const fail = (err: LinkConnectError): void => {
      if (settled) return;
      settled = true;
      cleanup();
      socket.destroy();
      reject(err);
    };
    const onError = (err: Error): void => fail(classifyConnectError(server, err, tcpUp));
    const onClose = (): void =>
      fail(
        tcpUp
          ? new HandshakeError(server, 'connection closed by the server during the handshake')
          : new ConnectFailedError(server, 'connection closed'),
      );
    const onAbort = (): void => fail(new ConnectAbortedError(server));
    const timer = setTimeout(() => fail(new ConnectTimeoutError(server, timeoutMs)), timeoutMs);
    function cleanup(): void {
      clearTimeout(timer);
      socket.off('connect', onConnect);
      socket.off('secureConnect', onSecure);
      socket.off('error', onError);
      socket.off('close', onClose);
      signal?.removeEventListener('abort', onAbort);
    }
    socket.on('connect', onConnect);
    socket.on('secureConnect', onSecure);
    socket.on('error', onError);
    socket.on('close', onClose);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The peer certificate's subject in the slash form the vendor's screen prints
 * (`服务器证书: /C=CN/ST=Guangdong/L=Shenzhen/O=Shenzhen Securities Communication`, OpenSSL's
 * one-line form), in the certificate's order.
 */
export function certificateSubject(cert: tls.PeerCertificate | null | undefined): string {
  if (!cert?.subject) return '';
  return Object.entries(cert.subject)
    .map(([k, v]) => `/${k}=${Array.isArray(v) ? v.join('+') : String(v)}`)
    .join('');
}

/** Adapt a connected (TLS) socket to the session's LinkConnection. */
export function socketConnection(socket: tls.TLSSocket): LinkConnection {
  socket.setNoDelay(true);
  const peer = certificateSubject(socket.getPeerCertificate());
  const conn: LinkConnection = {
    peer,
    write: (data) => socket.write(data),
    end: () => {
      socket.end();
    },
    destroy: () => {
      socket.destroy();
    },
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- forwards the typed overloads
    on: ((event: string, listener: (...args: any[]) => void) => {
      socket.on(event, listener);
      return conn;
    }) as LinkConnection['on'],
  };
  return conn;
}

export type Connector = (server: ServerAddress, signal: AbortSignal) => Promise<LinkConnection>;

/** The production connector: TLS to the server with the given credentials. */
export function tlsConnector(credentials: TlsCredentials, serverName: string, timeoutMs: number): Connector {
  return async (server, signal) =>
    socketConnection(await connectTls(server, credentials, { serverName, timeoutMs, signal }));
}
