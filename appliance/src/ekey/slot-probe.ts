import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProbeAnswer, ProbeRequest } from './slot-probe-child.js';
import type { TokenSelector } from './token.js';

/** A driver that does not answer within this is treated as a token that is not usable. */
export const PROBE_TIMEOUT_MS = 3000;

/** The compiled child beside this module, or the build's copy when running from .ts (vitest). */
export function probeScriptPath(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const beside = path.join(here, 'slot-probe-child.js');
  if (existsSync(beside)) return beside;
  return path.join(path.resolve(here, '../../..'), 'dist', 'appliance', 'src', 'ekey', 'slot-probe-child.js');
}

/**
 * "Is the token in its slot?" asked of a long-lived child process (slot-probe-child.ts), so that
 * the hot-plug watcher's frequent PKCS#11 calls never block the gateway's thread. A question not
 * answered within `timeoutMs` (a hung driver) kills the child and reads as absent (`hung` says
 * so); the next question starts a fresh child. `close()` ends it; it also ends with the gateway.
 */
export class SlotProbe {
  private child: ChildProcess | null = null;
  private nextId = 1;
  /** Questions in flight, with the process each was asked of (its exit answers only its own). */
  private readonly pending = new Map<number, { child: ChildProcess; settle: (present: boolean) => void }>();
  /** The last question timed out (the driver hung) rather than found the slot empty. */
  hung = false;

  constructor(
    private readonly module: string,
    private readonly selector: TokenSelector,
    private readonly timeoutMs = PROBE_TIMEOUT_MS,
    private readonly script = probeScriptPath(),
  ) {}

  probe(): Promise<boolean> {
    const child = this.ensureChild();
    const id = this.nextId++;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        this.hung = true;
        this.kill(child);
        resolve(false);
      }, this.timeoutMs);
      this.pending.set(id, {
        child,
        settle: (present) => {
          clearTimeout(timer);
          this.hung = false;
          resolve(present);
        },
      });
      const request: ProbeRequest = { id, module: this.module, selector: this.selector };
      try {
        child.send(request);
      } catch {
        this.answer(id, false); // the child is already gone: its exit answers the rest
      }
    });
  }

  close(): void {
    if (this.child) this.kill(this.child);
  }

  private ensureChild(): ChildProcess {
    if (this.child) return this.child;
    const child = fork(this.script, [], { stdio: ['ignore', 'ignore', 'ignore', 'ipc'], execArgv: [] });
    child.on('message', (msg: ProbeAnswer) => this.answer(msg.id, msg.present));
    child.on('error', () => undefined); // its exit settles what is pending
    child.on('exit', () => {
      if (this.child === child) this.child = null;
      for (const [id, q] of [...this.pending]) if (q.child === child) this.answer(id, false);
    });
    // An idle probe must not keep a process (a CLI, a test) alive; the gateway has its own timers.
    child.unref();
    child.channel?.unref();
    this.child = child;
    return child;
  }

  private answer(id: number, present: boolean): void {
    const q = this.pending.get(id);
    if (!q) return;
    this.pending.delete(id);
    q.settle(present);
  }

  private kill(child: ChildProcess): void {
    if (this.child === child) this.child = null;
    child.kill('SIGKILL');
  }
}
