import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import os from 'node:os';
import { vi } from 'vitest';

/**
 * Runs `fn` and returns the inodes of the directories fsynced meanwhile. It watches
 * FileHandle.sync (every call goes through to the real fsync), which is how the appliance syncs
 * a directory (shared/durable.ts).
 */
export async function dirsSyncedBy(fn: () => Promise<unknown>): Promise<Set<number>> {
  const probe = await fsp.open(os.tmpdir(), 'r');
  const proto = Object.getPrototypeOf(probe) as { sync: (this: FileHandle) => Promise<void> };
  await probe.close();
  const real = proto.sync;
  const seen = new Set<number>();
  const spy = vi.spyOn(proto, 'sync').mockImplementation(async function (this: FileHandle) {
    const st = await this.stat();
    if (st.isDirectory()) seen.add(st.ino);
    return real.call(this);
  });
  try {
    await fn();
  } finally {
    spy.mockRestore();
  }
  return seen;
}

export async function inode(p: string): Promise<number> {
  return (await fsp.stat(p)).ino;
}
