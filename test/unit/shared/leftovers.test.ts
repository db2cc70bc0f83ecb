import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../../helpers/process.js';

/** Pids whose command line carries the marker (read from /proc, no ps needed). */
function pidsWithMarker(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(marker)) pids.push(Number(entry));
    } catch {
      // Exited while we looked.
    }
  }
  return pids;
}

describe('a test that fails leaves no process behind', () => {
  it('the sweep kills the child and the grandchild a failing test left running', () => {
    const marker = `nqgw-leftover-${randomBytes(6).toString('hex')}`;
    const run = spawnSync(
      process.execPath,
      [
        path.join(REPO, 'node_modules/vitest/vitest.mjs'),
        'run',
        '--config',
        'test/fixtures/leftovers/vitest.config.ts',
      ],
      {
        cwd: REPO,
        env: { ...process.env, NQGW_LEFTOVER_MARKER: marker },
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    const output = `${run.stdout}\n${run.stderr}`;
    // The child run failed (the fixture fails on purpose) and says it swept two processes' group.
    expect(run.status, output).toBe(1);
    expect(output).toContain('failing on purpose');
    expect(output).toMatch(/leftovers: killed 1 process group/);
    // Neither the child nor its grandchild survives (the marker excludes this test's own process).
    expect(pidsWithMarker(marker).filter((pid) => pid !== process.pid)).toEqual([]);
  }, 150_000);
});
