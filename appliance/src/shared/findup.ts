import { existsSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * The nearest `rel` (a file, or with `kind` 'dir' a directory) at or above `start`, else null.
 * How the program finds what ships beside it (package.json, bin/nqgw.js, appliance/templates,
 * appliance/data/calendar) whether it runs from the sources (vitest), dist/ or /opt/nqgw: the
 * one walk up the tree, instead of a loop in each room.
 */
export function findUp(start: string, rel: string, kind: 'file' | 'dir' = 'file'): string | null {
  let dir = start;
  for (;;) {
    const candidate = path.join(dir, rel);
    if (existsSync(candidate) && statSync(candidate).isDirectory() === (kind === 'dir')) return candidate;
    const parent = path.dirname(dir);
    if (parent === dir) return null;
    dir = parent;
  }
}
