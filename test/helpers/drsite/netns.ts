import type { ChildProcess, SpawnOptions } from 'node:child_process';
import { spawnTracked } from '../leftovers.js';
import { mustRun, runCommand, type RunOptions, type RunResult } from './run.js';

/**
 * A network namespace with only loopback: smbd, qemu's user-mode network (and so the guests), the
 * simulator and the test's ssh/smbclient all run in it, so nothing the test does can leave the
 * machine, and fixed ports (445, 7043) cannot clash with anything else on it.
 */
export class Netns {
  private constructor(readonly name: string) {}

  static async create(name: string): Promise<Netns> {
    await mustRun('ip', ['netns', 'add', name]);
    const ns = new Netns(name);
    await ns.mustRun('ip', ['link', 'set', 'lo', 'up']);
    return ns;
  }

  run(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
    return runCommand('ip', ['netns', 'exec', this.name, command, ...args], options);
  }

  mustRun(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
    return mustRun('ip', ['netns', 'exec', this.name, command, ...args], options);
  }

  /** A long-running process in the namespace, in its own process group (swept if left behind). */
  spawn(command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
    return spawnTracked('ip', ['netns', 'exec', this.name, command, ...args], options);
  }

  /** Kills (SIGKILL) every process still in the namespace, then removes it. */
  async destroy(): Promise<void> {
    const pids = await runCommand('ip', ['netns', 'pids', this.name]);
    for (const pid of pids.stdout.split(/\s+/).filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await runCommand('ip', ['netns', 'del', this.name]);
  }
}
