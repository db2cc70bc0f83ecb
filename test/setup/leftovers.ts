import { afterAll } from 'vitest';
import { killLeftoverGroups } from '../helpers/leftovers.js';

// Runs in every test file (vitest.config.ts setupFiles): whatever the file's own cleanup did or
// failed to do, no process group it started survives it.
afterAll(() => {
  const killed = killLeftoverGroups();
  if (killed.length > 0) {
    console.warn(
      `leftovers: killed ${killed.length} process group(s) a test left running: ${killed.join(', ')}`,
    );
  }
});

// The groups are detached from the terminal's, so an interrupted run (Ctrl-C, CI's timeout
// killing the worker) must sweep them itself: once per worker process, then die of the signal.
const ARMED = Symbol.for('nqgw.test.leftovers.armed');
const registry = globalThis as { [ARMED]?: boolean };
if (!registry[ARMED]) {
  registry[ARMED] = true;
  process.once('exit', () => killLeftoverGroups());
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killLeftoverGroups();
      process.kill(process.pid, signal);
    });
  }
}
