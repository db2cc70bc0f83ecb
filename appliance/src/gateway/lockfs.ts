import { randomBytes } from 'node:crypto';
import {
  promises as fsp,
  closeSync,
  fsyncSync,
  linkSync,
  openSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';

/**
 * The file-system steps of the order-file lock (lock.ts), kept apart from its policy: who a
 * process is (pid, start time, boot), and files created whole or not at all.
 */

/** This boot of the kernel (shared by containers on it); null off Linux. */
export function bootId(): string | null {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim() || null;
  } catch {
    return null;
  }
}

/**
 * When process `pid` started, in clock ticks since boot (/proc/<pid>/stat field 22): a pid is
 * reused by the kernel (and repeats across container restarts), a pid and its start time are not.
 * Null when there is no such process (or no /proc).
 */
export function processStartTime(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[22 - 3]);
    return Number.isSafeInteger(ticks) ? ticks : null;
  } catch {
    return null;
  }
}

/** Errors of file systems without hard links (some SMB/CIFS and FUSE mounts). */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV']);

/**
 * Create `file` holding `content`, only if it does not exist: true when created, false when it
 * existed. The content is written to a private temporary file first and linked into place, so
 * `file` is never seen empty or half written (a reader that saw a half-written lock would have
 * to refuse it forever). Where hard links are not supported, O_EXCL and a write instead.
 */
export function createExclusive(file: string, content: string): boolean {
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  writeWhole(tmp, 'wx', content);
  try {
    linkSync(tmp, file);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code === 'EEXIST') return false;
    if (!NO_HARD_LINKS.has(code)) throw err;
  } finally {
    unlinkQuietly(tmp);
  }
  try {
    writeWhole(file, 'wx', content);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

function writeWhole(file: string, flags: string, content: string): void {
  const fd = openSync(file, flags, 0o644);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** The file's bytes as text, or null when it is not there. */
export function readIfExists(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // Already gone: that is what was wanted.
  }
}

/** Block this thread for `ms` (start-up only: the lock is taken before anything runs). */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Refresh the lease: rewrite the lock file's own bytes in place, which sets its mtime to now,
 * only while it still holds `record` (ours). A write and not utimes(): setting times needs the
 * file's owner on some shares (CIFS maps owners), a write needs only write access, which the
 * gateway has to the directory it serves. The bytes are the same, so a reader never sees another
 * record. 'gone' when the file is no longer ours (released, taken over): stop refreshing;
 * 'failed' when it could not be done this time (the share busy): try again at the next beat.
 */
export async function touchLease(file: string, record: string): Promise<'ok' | 'gone' | 'failed'> {
  // Asynchronous: this runs beside the order path, and a slow share must not stall it.
  let handle: Awaited<ReturnType<typeof fsp.open>> | null = null;
  try {
    handle = await fsp.open(file, 'r+');
    const bytes = Buffer.from(record, 'utf8');
    const seen = Buffer.alloc(bytes.length + 1);
    const { bytesRead } = await handle.read(seen, 0, seen.length, 0);
    if (bytesRead !== bytes.length || !seen.subarray(0, bytesRead).equals(bytes)) return 'gone';
    await handle.write(bytes, 0, bytes.length, 0);
    return 'ok';
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'gone' : 'failed';
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** How long ago the lock file's mtime (the lease) was last set; null when there is no file. */
export function leaseAgeMs(file: string, now: number = Date.now()): number | null {
  try {
    return now - statSync(file).mtimeMs;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}
