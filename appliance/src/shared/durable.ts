import { closeSync, fsyncSync, openSync, promises as fsp } from 'node:fs';
import path from 'node:path';

/**
 * Making a new or renamed file survive a power cut. fsync of a file makes its bytes durable, not
 * its name: the directory entry lives in the directory, which needs its own fsync. Every file that
 * recovery depends on (the day's journal, NQHB.DBF, an archived return file, the record of unfit
 * returns) goes through one of these.
 */

/** Errors that mean "this file system cannot fsync a directory", not "the disk failed". */
function unsupported(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'EINVAL' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'EISDIR';
}

/** fsync of a directory, so that entries created or renamed in it are durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await fsp.open(dir, 'r');
  try {
    await fh.sync();
  } catch (err) {
    // Some file systems refuse fsync on a directory; there is nothing more to do on them.
    if (!unsupported(err)) throw err;
  } finally {
    await fh.close();
  }
}

/** fsyncDir for synchronous code paths (start-up, CLI tools). */
export function fsyncDirSync(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } catch (err) {
    if (!unsupported(err)) throw err;
  } finally {
    closeSync(fd);
  }
}

/**
 * Creates `file` with `data` (refusing an existing one unless `overwrite`), syncs its bytes, then
 * its directory. When this returns, the file is there with its content after a power cut.
 */
export async function createDurably(
  file: string,
  data: Buffer | string,
  options: { overwrite?: boolean; mode?: number } = {},
): Promise<void> {
  const fh = await fsp.open(file, options.overwrite ? 'w' : 'wx', options.mode ?? 0o666);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fsyncDir(path.dirname(file));
}

/**
 * Replaces `file` atomically: a temporary file beside it, synced, renamed over it, directory
 * synced. After a crash the file is either the old one or the new one, whole.
 */
export async function replaceDurably(file: string, data: Buffer | string, mode = 0o600): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  const fh = await fsp.open(tmp, 'w', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fsp.rename(tmp, file);
  await fsyncDir(path.dirname(file));
}

/** Renames `from` to `to` and syncs both directories (one when they are the same). */
export async function renameDurably(from: string, to: string): Promise<void> {
  await fsp.rename(from, to);
  const a = path.dirname(from);
  const b = path.dirname(to);
  await fsyncDir(b);
  if (path.resolve(a) !== path.resolve(b)) await fsyncDir(a);
}
