import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import { listSegments } from './segments.js';

/** Where following goes on from: a segment and the byte just after its last whole line read. */
export interface FollowCursor {
  seq: number;
  file: string;
  offset: number;
}

/** Default poll: fs.watch misses changes on some filesystems (NFS, overlay), a poll does not. */
export const FOLLOW_POLL_MS = 250;

function splitLines(buf: Buffer): string[] {
  return buf
    .toString('utf8')
    .split('\n')
    .filter((l) => l.length > 0);
}

/**
 * The last n lines of the local structured log, oldest first, and a cursor just after them. The
 * newest segment is read once and only up to its last newline: a line being written is neither
 * shown half nor shown twice (following prints it when it is whole).
 */
export function tailWithCursor(dir: string, n: number): { lines: string[]; cursor: FollowCursor | null } {
  const segs = listSegments(dir);
  const newest = segs.at(-1);
  if (!newest) return { lines: [], cursor: null };
  const buf = readFileSync(newest.file);
  const end = buf.lastIndexOf(0x0a) + 1;
  const cursor: FollowCursor = { seq: newest.seq, file: newest.file, offset: end };
  if (!(n > 0)) return { lines: [], cursor };
  const last = splitLines(buf.subarray(0, end));
  const out = last.slice(Math.max(0, last.length - n));
  for (let i = segs.length - 2; i >= 0 && out.length < n; i--) {
    const lines = splitLines(readFileSync(segs[i]!.file));
    out.unshift(...lines.slice(Math.max(0, lines.length - (n - out.length))));
  }
  return { lines: out, cursor };
}

/**
 * Read what was appended to the cursor's segment since the last call. Only whole lines, unless
 * `closed` (a newer segment exists, so nothing more will come; a torn last line left by a crash
 * is shown as it is rather than never).
 */
function drain(cursor: FollowCursor, closed: boolean, onLine: (line: string) => void): void {
  let fd: number;
  try {
    fd = openSync(cursor.file, 'r');
  } catch {
    return; // removed (by hand): move on to the next segment
  }
  try {
    const size = fstatSync(fd).size;
    // Segments only grow; a shorter file was replaced, so read it from the start.
    if (size < cursor.offset) cursor.offset = 0;
    if (size === cursor.offset) return;
    const buf = Buffer.alloc(size - cursor.offset);
    let got = 0;
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, cursor.offset + got);
      if (n === 0) break;
      got += n;
    }
    const data = buf.subarray(0, got);
    const end = closed ? data.length : data.lastIndexOf(0x0a) + 1;
    if (end === 0) return;
    for (const line of splitLines(data.subarray(0, end))) onLine(line);
    cursor.offset += end;
  } finally {
    closeSync(fd);
  }
}

/**
 * Follow the local structured log from `cursor` (null: from the first segment that appears):
 * poll the open segment for appended lines and, when a segment with a higher sequence appears,
 * finish the current one and go on to the next by sequence order. stop() ends it.
 */
export function followSegments(
  dir: string,
  start: FollowCursor | null,
  onLine: (line: string) => void,
  everyMs = FOLLOW_POLL_MS,
): { stop: () => void } {
  let cursor = start ? { ...start } : null;
  const poll = (): void => {
    try {
      for (;;) {
        const segs = listSegments(dir);
        if (!cursor) {
          const first = segs[0];
          if (!first) return;
          cursor = { seq: first.seq, file: first.file, offset: 0 };
        }
        // List before draining: the writer closes a segment before it opens the next, so once a
        // newer one is seen, the read below gets everything the current one will ever hold.
        const at = cursor.seq;
        const next = segs.find((s) => s.seq > at);
        drain(cursor, next !== undefined, onLine);
        if (!next) return;
        cursor = { seq: next.seq, file: next.file, offset: 0 };
      }
    } catch {
      // The directory is briefly unreadable (being created, a disk hiccup): next tick.
    }
  };
  poll();
  const timer = setInterval(poll, everyMs);
  return { stop: () => clearInterval(timer) };
}
