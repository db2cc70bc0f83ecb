import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { staleSources } from '../../setup/fresh-dist.js';

describe('the suite notices dist/ older than the sources (test/setup/fresh-dist.ts)', () => {
  let repo: string;
  afterEach(() => rmSync(repo, { recursive: true, force: true }));

  function file(rel: string, secondsAgo: number): void {
    const full = path.join(repo, rel);
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, '// x\n');
    const t = Date.now() / 1000 - secondsAgo;
    utimesSync(full, t, t);
  }

  it('names a source edited after its build, and one never built; passes a fresh build', () => {
    repo = mkdtempSync(path.join(os.tmpdir(), 'nqgw-fresh-dist-'));
    file('appliance/src/gateway/engine.ts', 10);
    file('dist/appliance/src/gateway/engine.js', 60); // built before the edit
    file('appliance/src/cli/main.ts', 60);
    file('dist/appliance/src/cli/main.js', 10); // built after
    file('appliance/src/cli/new.ts', 5); // never built
    file('appliance/src/shared/types.d.ts', 1); // declarations are not compiled
    expect(staleSources(repo).sort()).toEqual([
      'appliance/src/cli/new.ts',
      'appliance/src/gateway/engine.ts',
    ]);
    file('dist/appliance/src/gateway/engine.js', 0);
    file('dist/appliance/src/cli/new.js', 0);
    expect(staleSources(repo)).toEqual([]);
  });
});
