import { fork, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TlsCredentials, TlsSecureOptions } from '../link/index.js';
import { AppError, systemClock, type Clock } from '../shared/index.js';
import type { EkeySettings } from './ekey-settings.js';
import { EkeyDeviceError, EkeyPinError } from './pkcs11-errors.js';
import { prepareEngine } from './pkcs11-tls.js';
import { readPinFile } from './pin.js';
import type { AgentAnswer, AgentRequest, SecureText, WireError } from './token-agent-child.js';
import { describeKey, type TokenSelector } from './token.js';

/** A slot look not answered within this reads as "token not usable" (the driver hung). */
export const PROBE_TIMEOUT_MS = 3000;
/** The connect-time checks (find, read, check, one C_Login) get longer. */
export const CREDENTIALS_TIMEOUT_MS = 10_000;

/** The token's driver did not answer: its process was killed. */
export class EkeyHungError extends AppError {
  constructor(what: string, ms: number) {
    super(
      'NQ129',
      `Ekey驱动无应答: ${what} (${ms} ms)`,
      'Re-plug the EKey or try another USB port; if it keeps hanging, switch to the spare EKey.',
    );
  }
}

/** The compiled child beside this module, or the build's copy when running from .ts (vitest). */
export function agentScriptPath(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const beside = path.join(here, 'token-agent-child.js');
  if (existsSync(beside)) return beside;
  return path.join(
    path.resolve(here, '../../..'),
    'dist',
    'appliance',
    'src',
    'ekey',
    'token-agent-child.js',
  );
}

type Settle = (answer: AgentAnswer | null) => void;
/** A request without its id, kind by kind (Omit over the union would merge the kinds). */
type Question = {
  [K in AgentRequest['kind']]: Omit<Extract<AgentRequest, { kind: K }>, 'id'>;
}[AgentRequest['kind']];

/**
 * The gateway's PKCS#11 calls, asked of a long-lived child process (token-agent-child.ts) so
 * that they never block the gateway's thread: a question not answered in time kills the child
 * (null answer; `hung` is set) and the next question starts a fresh one. `close()` ends it; it
 * also ends with the gateway.
 */
export class TokenAgent {
  private child: ChildProcess | null = null;
  private nextId = 1;
  /** Questions in flight, with the process each was asked of (its exit answers only its own). */
  private readonly pending = new Map<number, { child: ChildProcess; settle: Settle }>();
  /** The last question timed out (the driver hung) rather than being answered. */
  hung = false;

  constructor(private readonly script = agentScriptPath()) {}

  /** Is the token in its slot? A hung driver reads as absent. */
  async probe(module: string, selector: TokenSelector, timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
    const a = await this.ask({ kind: 'probe', module, selector }, timeoutMs);
    return a !== null && a.ok && 'present' in a && a.present;
  }

  /** Pkcs11TlsCredentials' checks, done in the agent; throws their typed errors. */
  async credentials(
    settings: EkeySettings,
    caPath: string,
    stationId: string,
    now: number,
    timeoutMs = CREDENTIALS_TIMEOUT_MS,
  ): Promise<SecureText> {
    const a = await this.ask({ kind: 'credentials', settings, caPath, stationId, now }, timeoutMs);
    if (a === null) throw new EkeyHungError(`token ${describeKey(settings)}`, timeoutMs);
    if (!a.ok) throw typedError(a.error);
    if (!('secure' in a)) throw new AppError('NQ123', 'token agent: unexpected answer');
    return a.secure;
  }

  close(): void {
    if (this.child) this.kill(this.child);
  }

  private ask(question: Question, timeoutMs: number): Promise<AgentAnswer | null> {
    const child = this.ensureChild();
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.hung = true;
        this.kill(child);
        resolve(null);
      }, timeoutMs);
      this.pending.set(id, {
        child,
        settle: (answer) => {
          clearTimeout(timer);
          if (answer !== null) this.hung = false;
          resolve(answer);
        },
      });
      try {
        child.send({ ...question, id } as AgentRequest);
      } catch {
        this.answer(id, null); // the child is already gone
      }
    });
  }

  private ensureChild(): ChildProcess {
    if (this.child) return this.child;
    const child = fork(this.script, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], execArgv: [] });
    child.on('message', (msg: AgentAnswer) => this.answer(msg.id, msg));
    child.on('error', () => undefined); // its exit settles what is pending
    child.on('exit', () => {
      if (this.child === child) this.child = null;
      for (const [id, q] of [...this.pending]) if (q.child === child) this.answer(id, null);
    });
    // An idle agent must not keep a process (a CLI, a test) alive; the gateway has its own timers.
    child.unref();
    child.channel?.unref();
    this.child = child;
    return child;
  }

  private answer(id: number, answer: AgentAnswer | null): void {
    const q = this.pending.get(id);
    if (!q) return;
    this.pending.delete(id);
    q.settle(answer);
  }

  private kill(child: ChildProcess): void {
    if (this.child === child) this.child = null;
    child.kill('SIGKILL');
  }
}

/** The typed error back from its wire form: device errors keep their CK_RV, a wrong PIN its class. */
function typedError(e: WireError): AppError {
  if (e.code === 'NQ121' && e.rv !== undefined) return new EkeyDeviceError(e.rv, e.operation ?? 'token');
  if (e.code === 'NQ102') return new EkeyPinError();
  return new AppError(e.code, e.message, e.hint);
}

/**
 * `[tls] mode = ekey` in the gateway: Pkcs11TlsCredentials' checks asked of the token agent, so
 * no PKCS#11 call runs on the gateway's thread. A wrong PIN is remembered here, with the PIN
 * file's fingerprint: no further attempt (the agent is not even asked) until the file changes,
 * even across a restart of the agent, so the reconnect loop cannot lock the token.
 */
export class AgentTlsCredentials implements TlsCredentials {
  private refusedPin: { fingerprint: string; error: AppError } | null = null;
  /** Questions that reached the agent (a refused PIN stops them). */
  asked = 0;

  constructor(
    private readonly agent: TokenAgent,
    readonly settings: EkeySettings,
    readonly caPath: string,
    readonly stationId: string,
    private readonly clock: Clock = systemClock,
  ) {}

  describe(): string {
    return `ekey (token agent) module=${this.settings.module} key ${describeKey(this.settings)}`;
  }

  async secureContextOptions(): Promise<TlsSecureOptions> {
    const fingerprint = createHash('sha256').update(readPinFile(this.settings.pinFile)).digest('hex');
    if (this.refusedPin?.fingerprint === fingerprint) throw this.refusedPin.error;
    this.asked++;
    let secure: SecureText;
    try {
      secure = await this.agent.credentials(this.settings, this.caPath, this.stationId, this.clock.now());
    } catch (err) {
      if (err instanceof EkeyPinError) this.refusedPin = { fingerprint, error: err };
      throw err;
    }
    this.refusedPin = null;
    // The TLS helper is forked from this process: it inherits the engine's environment from here.
    prepareEngine(this.settings);
    return secure;
  }
}
