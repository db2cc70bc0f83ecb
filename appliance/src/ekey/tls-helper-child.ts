/**
 * The EKey's TLS helper: a small process that makes ONE TLS connection to the main station with
 * the private key on the PKCS#11 token (OpenSSL's pkcs11 engine) and then carries plaintext
 * between the gateway (stdin/stdout) and the main station.
 *
 * Why a process of its own: once a token has been pulled, the engine inside a process keeps
 * stale object and session handles even after the token is back, and Node cannot unload it
 * (docs/ekey.md, finding 8). A fresh process per connection starts with a fresh engine, so the
 * gateway recovers from a re-plugged EKey without a restart. It also keeps pkcs11js (in the
 * gateway) and the engine (here) from initializing and finalizing the module under each other,
 * and a handshake that blocks inside the token's driver stalls only this process.
 *
 * Control channel (Node IPC, JSON): the parent sends one `connect`; the child answers `tcp` when
 * the TCP connection is up, then `up` (with the server certificate's subject) or `error` (the
 * Node error's message and code, whether TCP was up) and exits. After `up`, stdin goes to the
 * socket and the socket to stdout; the end of stdin ends the socket; the socket's close, or the
 * parent going away, ends this process.
 *
 * Only node: built-ins here, and link's door for the TLS options the gateway's own connections
 * use (one definition: stationTlsOptions); it starts for every connection and must start fast
 * (loading the door measured 6-22 ms on a busy 2-core machine; a token handshake is ~600 ms).
 */
import * as tls from 'node:tls';
import { stationTlsOptions } from '../link/index.js';

export interface HelperConnectRequest {
  type: 'connect';
  host: string;
  port: number;
  /** The name the main station's certificate must carry. */
  serverName: string;
  ca: string;
  cert: string;
  privateKeyEngine: string;
  privateKeyIdentifier: string;
  timeoutMs: number;
}

export type HelperReport =
  | { type: 'tcp' }
  | { type: 'up'; subject: Record<string, string | string[]> }
  | { type: 'error'; message: string; code?: string; tcpUp: boolean };

let sending = 0;
let exitWhenSent: number | null = null;

/** Send a report to the gateway; IPC is asynchronous, so exits wait for sends in flight. */
function report(msg: HelperReport): void {
  if (!process.send) return;
  sending++;
  process.send(msg, undefined, {}, () => {
    sending--;
    if (sending === 0 && exitWhenSent !== null) process.exit(exitWhenSent);
  });
}

function exitAfterReports(code: number): void {
  if (sending === 0) process.exit(code);
  exitWhenSent = code;
}

function errorReport(err: NodeJS.ErrnoException, tcpUp: boolean): HelperReport {
  return {
    type: 'error',
    message: err.message,
    ...(err.code !== undefined ? { code: err.code } : {}),
    tcpUp,
  };
}

/** Report a failure before the session was up, and exit. */
function failAndExit(err: NodeJS.ErrnoException, tcpUp: boolean): void {
  report(errorReport(err, tcpUp));
  exitAfterReports(1);
}

function connect(req: HelperConnectRequest): void {
  const state = { tcpUp: false, up: false };
  let socket: tls.TLSSocket;
  try {
    socket = tls.connect({
      host: req.host,
      port: req.port,
      ca: req.ca,
      cert: req.cert,
      privateKeyEngine: req.privateKeyEngine,
      privateKeyIdentifier: req.privateKeyIdentifier,
      ...stationTlsOptions(req.serverName),
    });
  } catch (err) {
    // The engine can fail inside tls.connect itself (the key cannot be loaded): report it as data.
    failAndExit(err as NodeJS.ErrnoException, false);
    return;
  }
  const timer = setTimeout(() => {
    const err: NodeJS.ErrnoException = new Error(`no TLS session within ${req.timeoutMs} ms`);
    err.code = 'ETIMEDOUT';
    failAndExit(err, state.tcpUp);
  }, req.timeoutMs);
  socket.on('connect', () => {
    state.tcpUp = true;
    report({ type: 'tcp' });
  });
  socket.on('secureConnect', () => {
    clearTimeout(timer);
    state.up = true;
    socket.setNoDelay(true);
    const subject = socket.getPeerCertificate().subject as unknown as Record<string, string | string[]>;
    report({ type: 'up', subject: subject ?? {} });
    process.stdin.pipe(socket);
    // stdout to a pipe is synchronous on Linux: what was read is in the pipe before we exit.
    socket.on('data', (chunk: Buffer) => process.stdout.write(chunk));
  });
  socket.on('error', (err: NodeJS.ErrnoException) => {
    clearTimeout(timer);
    if (state.up) report(errorReport(err, true));
    else failAndExit(err, state.tcpUp);
  });
  // The socket's 'close' follows any 'error': the end of this process either way (after the
  // reports are out: IPC is asynchronous).
  socket.on('close', () => {
    clearTimeout(timer);
    if (state.up) exitAfterReports(0);
    else failAndExit(new Error('connection closed during the TLS handshake'), state.tcpUp);
  });
  // The gateway died or let go: no orphan may keep the station's one session open.
  process.on('disconnect', () => {
    socket.destroy();
    process.exit(0);
  });
}

process.once('message', (msg: HelperConnectRequest) => {
  if (msg?.type === 'connect') connect(msg);
  else process.exit(2);
});
