import { execFileSync } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SlotProbe, probeScriptPath } from '../../../appliance/src/ekey/index.js';
import { SOFTHSM_MODULE, initToken, softhsmMissing, softhsmStore } from './softhsm.js';

/**
 * The hot-plug guard's slot probe runs in its own process (ekey/slot-probe.ts), so that a token
 * driver that hangs cannot stall the gateway: a real SoftHSM2 token seen and not seen, and a
 * "driver" that never answers (a child that ignores the question) read as absent within the
 * timeout, its process killed, and a fresh one answering the next question.
 */
function probePids(ppid: number, script: string): number[] {
  return execFileSync('ps', ['-eo', 'pid=,ppid=,args='], { encoding: 'utf8' })
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter(([, pp, ...args]) => Number(pp) === ppid && args.join(' ').includes(script))
    .map(([pid]) => Number(pid));
}

describe('SlotProbe: a driver that hangs is killed, the gateway is not stalled', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'nqgw-probe-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads a question not answered in time as absent, kills that process, and starts afresh', async () => {
    // A stand-in for a hung driver: answers only the questions after the first.
    const script = join(dir, 'hang-once.mjs');
    writeFileSync(
      script,
      `import { existsSync, writeFileSync } from 'node:fs';
const mark = ${JSON.stringify(join(dir, 'hung-once'))};
process.on('message', (req) => {
  if (!existsSync(mark)) { writeFileSync(mark, ''); return; } // hang: never answer
  process.send({ id: req.id, present: true });
});
process.on('disconnect', () => process.exit(0));
`,
    );
    const probe = new SlotProbe('/nowhere.so', { tokenLabel: 'x' }, 300, script);
    try {
      let ticks = 0;
      const ticker = setInterval(() => ticks++, 10); // the event loop keeps running meanwhile
      const t0 = performance.now();
      expect(await probe.probe()).toBe(false);
      const waited = performance.now() - t0;
      clearInterval(ticker);
      expect(probe.hung).toBe(true);
      expect(waited).toBeGreaterThanOrEqual(290);
      expect(ticks).toBeGreaterThan(10);
      expect(probePids(process.pid, script)).toEqual([]);
      expect(await probe.probe()).toBe(true);
      expect(probe.hung).toBe(false);
    } finally {
      probe.close();
    }
  });

  const missing = softhsmMissing();
  it.skipIf(missing !== null)(
    'sees a real SoftHSM2 token in its slot, gone, and back (from its own process)',
    async () => {
      const tokens = softhsmStore(join(dir, 'hsm')).tokens; // SOFTHSM2_CONF is inherited by the probe
      initToken('probe', '111222');
      const probe = new SlotProbe(SOFTHSM_MODULE ?? '', { tokenLabel: 'probe' });
      try {
        expect(await probe.probe()).toBe(true);
        const other = new SlotProbe(SOFTHSM_MODULE ?? '', { tokenLabel: 'other' });
        expect(await other.probe()).toBe(false);
        other.close();
        renameSync(tokens, `${tokens}.away`);
        expect(await probe.probe()).toBe(false);
        expect(probe.hung).toBe(false); // absent, not hung
        renameSync(`${tokens}.away`, tokens);
        expect(await probe.probe()).toBe(true);
        expect(probePids(process.pid, probeScriptPath()).length).toBe(1);
      } finally {
        probe.close();
      }
    },
  );
});
