/**
 * The EKey token agent's own process (forked by token-agent.ts): every PKCS#11 call the gateway
 * needs outside the handshake, one question at a time over Node IPC:
 *   - `probe`: is the token in its slot? (the hot-plug watcher, every second);
 *   - `credentials`: find the token, read and check its certificate, check the PIN with one
 *     C_Login, and give the TLS helper what it needs (Pkcs11TlsCredentials, at each connect).
 * It exists so that a token driver that hangs (a misbehaving USB device behind pcscd can take
 * seconds) stalls this process, which the gateway kills, and never the gateway's event loop,
 * where orders and heartbeats run. The module's environment ([ekey] module_env) is inherited.
 */
import { AppError } from '../shared/index.js';
import type { EkeySettings } from './ekey-settings.js';
import { EkeyDeviceError } from './pkcs11-errors.js';
import { Pkcs11TlsCredentials } from './pkcs11-tls.js';
import { Pkcs11Module, type TokenSelector } from './token.js';

export type AgentRequest =
  | { id: number; kind: 'probe'; module: string; selector: TokenSelector }
  | {
      id: number;
      kind: 'credentials';
      settings: EkeySettings;
      caPath: string;
      stationId: string;
      now: number;
    };

/** An error as it crosses the process boundary: enough to rebuild the typed one. */
export interface WireError {
  code: string;
  message: string;
  hint?: string;
  rv?: number;
  operation?: string;
}

export interface SecureText {
  ca: string;
  cert: string;
  privateKeyEngine: string;
  privateKeyIdentifier: string;
}

export type AgentAnswer =
  | { id: number; ok: true; present: boolean }
  | { id: number; ok: true; secure: SecureText }
  | { id: number; ok: false; error: WireError };

let module: Pkcs11Module | null = null;

function moduleFor(path: string): Pkcs11Module {
  module ??= new Pkcs11Module(path);
  return module;
}

function wire(err: unknown): WireError {
  if (err instanceof EkeyDeviceError) {
    return {
      code: err.code,
      message: err.message,
      rv: err.rv,
      operation: err.operation,
      ...(err.hint ? { hint: err.hint } : {}),
    };
  }
  if (err instanceof AppError)
    return { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) };
  return { code: 'NQ123', message: (err as Error)?.message ?? String(err) };
}

async function answer(req: AgentRequest): Promise<AgentAnswer> {
  try {
    if (req.kind === 'probe') {
      let present = false;
      try {
        present = moduleFor(req.module).present(req.selector);
      } catch {
        present = false; // a module that cannot even load: no token to use
      }
      return { id: req.id, ok: true, present };
    }
    const credentials = new Pkcs11TlsCredentials(
      req.settings,
      req.caPath,
      req.stationId,
      { now: () => req.now },
      moduleFor(req.settings.module),
    );
    const o = await credentials.secureContextOptions();
    const text = (v: unknown): string => (Buffer.isBuffer(v) ? v.toString('utf8') : String(v ?? ''));
    return {
      id: req.id,
      ok: true,
      secure: {
        ca: text(o.ca),
        cert: text(o.cert),
        privateKeyEngine: o.privateKeyEngine ?? '',
        privateKeyIdentifier: o.privateKeyIdentifier ?? '',
      },
    };
  } catch (err) {
    return { id: req.id, ok: false, error: wire(err) };
  }
}

// One question at a time, in order: the module is not asked two things at once.
let queue: Promise<void> = Promise.resolve();
process.on('message', (req: AgentRequest) => {
  queue = queue.then(async () => {
    process.send?.(await answer(req));
  });
});

// The gateway went away: nothing left to answer.
process.on('disconnect', () => process.exit(0));
