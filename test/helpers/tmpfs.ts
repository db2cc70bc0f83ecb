import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * A small real tmpfs (the tests run as root), for what a full disk does to a writer: mount it,
 * fill it to the last byte, free it. Unmount every mount with unmountAll() in afterAll.
 */
const mounted: string[] = [];

export function mountTmpfs(sizeKb = 64): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nqgw-tmpfs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeKb}k`, 'tmpfs', dir]);
  mounted.push(dir);
  return dir;
}

export function unmountAll(): void {
  for (const dir of mounted.splice(0)) {
    try {
      execFileSync('umount', [dir], { stdio: 'pipe' });
    } catch {
      // Still busy (a test failed with a file open on it): detach it now, freed when closed.
      try {
        execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      } catch {
        // not mounted any more
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Fills the file system holding `dir` up to the last byte; returns the filler file (rm it to free). */
export function fillUp(dir: string): string {
  const filler = path.join(dir, 'filler');
  const fd = openSync(filler, 'w');
  const chunk = Buffer.alloc(4096, 0x55);
  try {
    try {
      for (;;) writeSync(fd, chunk);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
    }
    for (;;) {
      try {
        writeSync(fd, chunk, 0, 1);
      } catch {
        break;
      }
    }
  } finally {
    closeSync(fd);
  }
  return filler;
}
