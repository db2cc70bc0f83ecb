import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, linkSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';

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

/** kill(pid, 0): true when the process exists (EPERM: it exists, it is not ours). */
export function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
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
