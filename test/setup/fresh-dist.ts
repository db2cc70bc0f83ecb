import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * vitest globalSetup: many tests run the built CLI, agents and helpers from dist/ (real
 * processes, as operators run them). A source changed after the last build would make those tests
 * pass or fail on old code without a word, so before any test runs: every compiled source must
 * have its dist/ file no older than itself, or dist/ is rebuilt here (and a failed build stops
 * the run with tsc's own errors).
 */
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const COMPILED = ['appliance/src', 'scripts/bench'];

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sources(full));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

/** The sources whose dist/ file is missing or older than they are. */
export function staleSources(repo = REPO): string[] {
  const stale: string[] = [];
  for (const root of COMPILED) {
    const dir = path.join(repo, root);
    if (!existsSync(dir)) continue;
    for (const source of sources(dir)) {
      const built = path.join(repo, 'dist', path.relative(repo, source)).replace(/\.ts$/, '.js');
      if (!existsSync(built) || statSync(built).mtimeMs < statSync(source).mtimeMs) {
        stale.push(path.relative(repo, source));
      }
    }
  }
  return stale;
}

export default function setup(): void {
  const stale = staleSources();
  if (stale.length === 0) return;
  const shown = stale.slice(0, 5).join(', ') + (stale.length > 5 ? ` and ${stale.length - 5} more` : '');
  console.log(`fresh-dist: dist/ is older than ${stale.length} source(s) (${shown}): building it first`);
  const build = spawnSync(
    process.execPath,
    [path.join(REPO, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'],
    {
      cwd: REPO,
      encoding: 'utf8',
    },
  );
  if (build.status !== 0) {
    throw new Error(
      `fresh-dist: the tests run dist/ code and dist/ is stale, but the build failed:\n${build.stdout}${build.stderr}`,
    );
  }
}
