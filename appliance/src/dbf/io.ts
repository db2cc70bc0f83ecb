import { promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { DbfReplacedError } from './errors.js';

/** Small file-handling pieces shared by the reader, the appender and the writer. */

/** Reads up to `length` bytes at `position`, looping over short reads; returns the bytes read. */
export async function readAt(fh: FileHandle, buf: Buffer, length: number, position: number): Promise<number> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done);
    if (bytesRead === 0) break; // end of file: the file is shorter than asked, the caller decides
    done += bytesRead;
  }
  return done;
}

/** Writes all of `buf` at `position`. */
export async function writeAt(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done);
    done += bytesWritten;
  }
}

/** Identity of an open file: what a rename over it, or a delete and re-create, changes. */
export interface FileIdentity {
  dev: bigint;
  ino: bigint;
}

export async function identityOf(fh: FileHandle): Promise<FileIdentity> {
  const st = await fh.stat({ bigint: true });
  return { dev: st.dev, ino: st.ino };
}

/**
 * Size of the file at `path`, after checking it is still the file we hold open. Throws
 * DbfReplacedError when the path is gone or names another file.
 */
export async function sizeIfSame(path: string, id: FileIdentity): Promise<number> {
  let st;
  try {
    st = await fsp.stat(path, { bigint: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT')
      throw new DbfReplacedError(path, 'the file is gone (deleted, or being renamed)');
    throw err;
  }
  if (st.ino !== id.ino || st.dev !== id.dev) {
    throw new DbfReplacedError(path, `another file now has its name (inode ${st.ino}, was ${id.ino})`);
  }
  return Number(st.size);
}

/** Runs async operations on one object one at a time, in call order. */
export class Serial {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.tail.then(fn);
    this.tail = p.catch(() => undefined);
    return p;
  }
}
