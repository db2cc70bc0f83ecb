import { close as closeFd, existsSync, fsync, mkdirSync, openSync, readdirSync, writeSync } from 'node:fs';
import path from 'node:path';
import { cstDate, type Clock } from '../shared/index.js';
import { seqName } from './fsutil.js';

/** A local log segment: `segments/YYYYMMDD-SEQ.jsonl`, one JSON object a line. */
export interface SegmentRef {
  seq: number;
  date: string;
  file: string;
}

const SEGMENT_RE = /^(\d{8})-(\d{12})\.jsonl$/;

export function segmentsDir(dir: string): string {
  return path.join(dir, 'segments');
}

/** Every local segment, in sequence order. */
export function listSegments(dir: string): SegmentRef[] {
  const sdir = segmentsDir(dir);
  if (!existsSync(sdir)) return [];
  const out: SegmentRef[] = [];
  for (const name of readdirSync(sdir)) {
    const m = SEGMENT_RE.exec(name);
    if (m) out.push({ seq: Number(m[2]), date: m[1]!, file: path.join(sdir, name) });
  }
  return out.sort((a, b) => a.seq - b.seq);
}

export interface SegmentWriterOptions {
  dir: string;
  clock: Clock;
  maxBytes: number;
  maxMs: number;
  /** The first sequence number this writer may use (after everything on disk). */
  firstSeq: number;
  onClosed?: (segment: SegmentRef) => void;
}

/**
 * Appends lines to the open segment and closes it by size, by age and at CST midnight (a segment
 * never spans two exchange days). A line is in the file (page cache) when append returns, so a
 * kill -9 loses nothing already appended; a closed segment is fsynced before anyone is told.
 */
export class SegmentWriter {
  private fd: number | null = null;
  private open: SegmentRef | null = null;
  private openedAt = 0;
  private bytes = 0;
  private nextSeq: number;
  private timer: NodeJS.Timeout | null = null;
  /** Closed segments whose fsync is still running (in the thread pool), by sequence. */
  private readonly closing = new Map<number, Promise<void>>();

  constructor(private readonly options: SegmentWriterOptions) {
    mkdirSync(segmentsDir(options.dir), { recursive: true });
    this.nextSeq = options.firstSeq;
  }

  start(): void {
    const every = Math.max(50, Math.min(1000, Math.floor(this.options.maxMs / 4)));
    this.timer = setInterval(() => this.rotateIfDue(), every);
    this.timer.unref();
  }

  /** Lowest sequence still open or being synced, or null. Segments below it are closed and synced. */
  get openSeq(): number | null {
    const seqs = [...this.closing.keys(), ...(this.open ? [this.open.seq] : [])];
    return seqs.length ? Math.min(...seqs) : null;
  }

  append(line: string): void {
    const data = Buffer.from(`${line}\n`, 'utf8');
    const now = this.options.clock.now();
    if (this.open) {
      const tooBig = this.bytes > 0 && this.bytes + data.length > this.options.maxBytes;
      if (tooBig || this.isDue(now)) this.close();
    }
    if (!this.open) this.openSegment(now);
    writeSync(this.fd!, data);
    this.bytes += data.length;
  }

  rotateIfDue(): void {
    if (this.open && this.isDue(this.options.clock.now())) this.close();
  }

  /**
   * Close the open segment (if any). The fsync runs in the thread pool so the gateway does not
   * wait for the disk; onClosed is told once it is done. A kill -9 meanwhile loses nothing: the
   * lines are in the page cache, and the next start seals the segment.
   */
  close(): void {
    if (!this.open || this.fd === null) return;
    const closed = this.open;
    const fd = this.fd;
    this.fd = null;
    this.open = null;
    const done = new Promise<void>((resolve) => {
      fsync(fd, () => closeFd(fd, () => resolve()));
    }).then(() => {
      this.closing.delete(closed.seq);
      this.options.onClosed?.(closed);
    });
    this.closing.set(closed.seq, done);
  }

  /** Close the open segment and wait until every closed one is synced. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.close();
    await Promise.all([...this.closing.values()]);
  }

  private isDue(now: number): boolean {
    return now - this.openedAt >= this.options.maxMs || cstDate(now) !== this.open?.date;
  }

  private openSegment(now: number): void {
    const seq = this.nextSeq++;
    const date = cstDate(now);
    const file = path.join(segmentsDir(this.options.dir), `${date}-${seqName(seq)}.jsonl`);
    this.fd = openSync(file, 'a', 0o640);
    this.open = { seq, date, file };
    this.openedAt = now;
    this.bytes = 0;
  }
}
