import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from '../../helpers/process.js';

describe("the suite's closing line (scripts/test-summary.mjs)", () => {
  it('counts a test file whose set-up failed as failed, names it, and exits 1', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nqgw-summary-'));
    try {
      const json = path.join(dir, 'results.json');
      const run = spawnSync(
        process.execPath,
        [
          path.join(REPO, 'node_modules/vitest/vitest.mjs'),
          'run',
          '--config',
          'test/fixtures/summary/vitest.config.ts',
          '--reporter=json',
          `--outputFile=${json}`,
        ],
        { cwd: REPO, encoding: 'utf8', timeout: 120_000 },
      );
      expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(1);
      const summary = spawnSync(process.execPath, [path.join(REPO, 'scripts/test-summary.mjs'), json], {
        encoding: 'utf8',
      });
      const lines = summary.stdout.trim().split('\n');
      expect(lines[0]).toBe('1 passed, 1 failed, 1 skipped');
      expect(lines[1]).toMatch(/failed in set-up: .*broken-setup\.fixture\.ts: .*set-up broke on purpose/);
      expect(summary.status).toBe(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 150_000);
});
