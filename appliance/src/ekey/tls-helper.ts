import { fork, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PeerCertificate } from 'node:tls';
import type { ServerAddress } from '../config/index.js';
import {
  certificateSubject,
  classifyConnectError,
  ConnectAbortedError,
  ConnectFailedError,
  type Connector,
  type LinkConnection,
  type TlsCredentials,
} from '../link/index.js';
import { mapEngineError } from './pkcs11-tls.js';
import type { HelperConnectRequest, HelperReport } from './tls-helper-child.js';

/** How long a closing helper may take to flush a goodbye before it is killed. */
const CLOSE_GRACE_MS = 500;
/** How long a helper that reported an error may take to exit before it is killed. */
const REPORT_GRACE_MS = 1000;
/** The helper's stderr kept for an error message (libp11 explains itself there). */
const STDERR_KEEP = 2048;

/**
 * The compiled child script. Beside this module in dist/; when this module runs from its .ts
 * source (vitest), the build's copy in dist/ (scripts/test.sh builds before testing).
 */
export function helperScriptPath(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const beside = path.join(here, 'tls-helper-child.js');
  if (existsSync(beside)) return beside;
  const root = path.resolve(here, '../../..');
  return path.join(root, 'dist', 'appliance', 'src', 'ekey', 'tls-helper-child.js');
}

/**
 * Connect to the main station through a TLS helper process (tls-helper-child.ts) per connection:
 * the credentials are asked in this process (pkcs11js finds the token, checks the certificate and
 * the PIN), the handshake with the token's key is done by the helper's OpenSSL engine. Errors are
 * those of the in-process connector: the engine's CK_RV mapped to EkeyDeviceError/EkeyPinError,
 * otherwise refused / handshake / failed / aborted as link/transport.ts names them.
 */
export function helperTlsConnector(
  credentials: TlsCredentials,
  serverName: string,
  timeoutMs: number,
  script: string = helperScriptPath(),
): Connector {
  return async (server, signal) => {
    const secure = await credentials.secureContextOptions();
    if (signal.aborted) throw new ConnectAbortedError(server);
    const request: HelperConnectRequest = {
      type: 'connect',
      host: server.host,
      port: server.port,
      serverName,
      ca: pemText(secure.ca),
      cert: pemText(secure.cert),
      privateKeyEngine: secure.privateKeyEngine ?? '',
      privateKeyIdentifier: secure.privateKeyIdentifier ?? '',
      timeoutMs,
    };
    // The environment is this process's, including OPENSSL_ENGINES and PKCS11_MODULE_PATH set
    // by prepareEngine() and the module's own variables ([ekey] module_env).
    const child = fork(script, [], { stdio: ['pipe', 'pipe', 'pipe', 'ipc'], execArgv: [] });
    // An 'error' without a listener would throw in the gateway: a helper that could not be
    // signalled, or a pipe to one that is gone (EPIPE). Its 'exit'/'close' tells what matters.
    child.on('error', () => undefined);
    child.stdin?.on('error', () => undefined);
    return handshake(child, server, request, signal);
  };
}

function pemText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (Array.isArray(value)) return value.map(pemText).join('\n');
  return '';
}

function handshake(
  child: ChildProcess,
  server: ServerAddress,
  request: HelperConnectRequest,
  signal: AbortSignal,
): Promise<LinkConnection> {
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString('utf8')).slice(-STDERR_KEEP);
  });
  return new Promise<LinkConnection>((resolve, reject) => {
    let tcpUp = false;
    let settled = false;
    // The helper reports an error and exits; its last words on stderr (libp11 explains itself
    // there) may come after the report, and 'exit' may come before the report is read. So the
    // verdict waits for 'close' (output, stderr and channel done), or a short grace after a report.
    let reported: Extract<HelperReport, { type: 'error' }> | null = null;
    let graceTimer: NodeJS.Timeout | null = null;
    const fail = (err: unknown): void => {
      if (settled) return;
      settled = true;
      cleanup();
      child.kill('SIGKILL');
      reject(err);
    };
    const failReported = (why: string): void =>
      fail(
        reported
          ? helperError(server, reported, stderr)
          : tcpUp
            ? classifyConnectError(server, new Error(why), true)
            : new ConnectFailedError(server, why),
      );
    const onMessage = (msg: HelperReport): void => {
      if (settled) return;
      if (msg.type === 'tcp') tcpUp = true;
      else if (msg.type === 'error') {
        reported = msg;
        graceTimer ??= setTimeout(
          () => failReported('TLS helper did not exit after its report'),
          REPORT_GRACE_MS,
        );
      } else {
        settled = true;
        cleanup();
        const peer = certificateSubject({ subject: msg.subject } as unknown as PeerCertificate);
        resolve(new HelperConnection(child, peer));
      }
    };
    const onClose = (code: number | null, sig: NodeJS.Signals | null): void => {
      const why = `TLS helper exited (${sig ?? `code ${String(code)}`})${stderr ? `: ${stderr.trim()}` : ''}`;
      // A report still queued behind the close is read first.
      setImmediate(() => failReported(why));
    };
    const onSpawnError = (err: Error): void =>
      fail(new ConnectFailedError(server, `TLS helper: ${err.message}`, err));
    const onAbort = (): void => fail(new ConnectAbortedError(server));
    function cleanup(): void {
      if (graceTimer) clearTimeout(graceTimer);
      child.off('message', onMessage);
      child.off('close', onClose);
      child.off('error', onSpawnError);
      signal.removeEventListener('abort', onAbort);
    }
    child.on('message', onMessage);
    child.on('close', onClose);
    child.on('error', onSpawnError);
    signal.addEventListener('abort', onAbort, { once: true });
    child.send(request);
  });
}

/** The helper's report of a Node/OpenSSL error, named as the in-process connector would. */
function helperError(
  server: ServerAddress,
  msg: Extract<HelperReport, { type: 'error' }>,
  stderr: string,
): unknown {
  const err: NodeJS.ErrnoException = new Error(msg.message);
  if (msg.code !== undefined) err.code = msg.code;
  const mapped = mapEngineError(err);
  if (mapped !== err) return mapped;
  if (msg.code === 'ETIMEDOUT' && !msg.tcpUp) return new ConnectFailedError(server, msg.message, err);
  // libp11's own explanation (on the helper's stderr) helps more than OpenSSL's code alone.
  const said = stderr.trim().split('\n').slice(-2).join(' | ');
  if (said !== '') err.message = `${msg.message} (${said})`;
  return classifyConnectError(server, err, msg.tcpUp);
}

/**
 * The session's byte pipe over the helper's stdin/stdout. 'close' when the helper has exited
 * and its output is read; errors the helper reports after the handshake are 'error'.
 */
class HelperConnection extends EventEmitter implements LinkConnection {
  private killTimer: NodeJS.Timeout | null = null;
  private flowing = false;

  constructor(
    private readonly child: ChildProcess,
    readonly peer: string,
  ) {
    super();
    const { stdin, stdout } = child;
    if (!stdin || !stdout) throw new Error('TLS helper started without pipes');
    stdin.on('drain', () => this.emit('drain'));
    child.on('message', (msg: HelperReport) => {
      // Nobody listening any more (a connection let go of): nothing to tell, and an 'error'
      // without a listener would throw.
      if (msg.type === 'error' && this.listenerCount('error') > 0) {
        const err: NodeJS.ErrnoException = new Error(msg.message);
        if (msg.code !== undefined) err.code = msg.code;
        this.emit('error', err);
      }
    });
    child.on('close', () => {
      if (this.killTimer) clearTimeout(this.killTimer);
      this.emit('close');
    });
  }

  /** The helper's output flows from the first 'data' listener on: nothing read is dropped. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- EventEmitter's own signature
  override on(event: string | symbol, listener: (...args: any[]) => void): this {
    super.on(event, listener);
    if (event === 'data' && !this.flowing) {
      this.flowing = true;
      this.child.stdout?.on('data', (chunk: Buffer) => this.emit('data', chunk));
    }
    return this;
  }

  write(data: Buffer): boolean {
    return this.child.stdin?.write(data) ?? false;
  }

  end(): void {
    this.child.stdin?.end();
  }

  /** Ends the helper's input (what was written, a Quit, still goes out), then kills it if slow. */
  destroy(): void {
    if (this.child.exitCode !== null || this.child.signalCode !== null || this.killTimer) return;
    this.child.stdin?.end();
    this.killTimer = setTimeout(() => this.child.kill('SIGKILL'), CLOSE_GRACE_MS);
  }
}
