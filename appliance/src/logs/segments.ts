import { appendFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { open } from 'node:fs/promises';
import path from 'node:path';
import { cstDate, SerialWriter, type Clock, type SerialSink } from '../shared/index.js';

/** A local log segment: `segments/YYYYMMDD-SEQ.jsonl`, one JSON object a line. */
export interface SegmentRef {
  seq: number;
  date: string;
  file: string;
}

const SEGMENT_RE = /^(\d{8})-(\d{12})\.jsonl$/;

/** Segment sequence numbers are 12 digits, so names sort in order. */
export function seqName(seq: number): string {
  return String(seq).padStart(12, '0');
}

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

/** The calls a segment file needs; a FileHandle has them. A test gives a slow disk here. */
export interface SegmentFile {
  appendFile(data: string): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

/** Opens a segment for appending (created if absent). */
export type OpenSegmentFile = (file: string) => Promise<SegmentFile>;

export const openSegmentFile: OpenSegmentFile = (file) => open(file, 'a', 0o640);

/** A file system that cannot fsync this file (EINVAL, ENOTSUP) has nothing more to do: not a failure. */
function unlessUnsupported(err: NodeJS.ErrnoException): void {
  if (err.code !== 'EINVAL' && err.code !== 'ENOTSUP' && err.code !== 'EOPNOTSUPP') throw err;
}

/** Bytes of lines that may wait for a slow disk before lines are dropped (counted, marked). */
export const SEGMENT_QUEUE_BYTES = 4 * 1024 * 1024;

export interface SegmentWriterOptions {
  dir: string;
  clock: Clock;
  maxBytes: number;
  maxMs: number;
  /** The first sequence number this writer may use (after everything on disk). */
  firstSeq: number;
  onClosed?: (segment: SegmentRef) => void;
  /** Default SEGMENT_QUEUE_BYTES. */
  maxQueuedBytes?: number;
  /** The line (without newline) put in the segment where `n` lines had to be dropped. */
  droppedLine?: (n: number) => string;
  /** Lines began to be dropped: the disk does not keep up (once per run of drops). */
  onDropping?: () => void;
  /** The disk failed (first failure after a success); lines are lost until it works again. */
  onFailure?: (err: Error) => void;
  /** The disk works again; `lost` lines could not be written meanwhile. */
  onRecovery?: (lost: number) => void;
  openFile?: OpenSegmentFile;
}

/** What waits for the disk: a line for a segment, or "this segment is closed: sync it". */
type SegmentItem = { seg: SegmentRef; data: string } | { seg: SegmentRef; close: true };

/**
 * Appends lines to the open segment and closes it by size, by age and at CST midnight (a segment
 * never spans two exchange days). Which segment a line goes to is decided when it is appended
 * (so sizes, ages and the day are the line's own); the disk work is queued and done by one write
 * at a time off the event loop (shared/serialwriter.ts): a slow or stuck [logs] disk must not
 * stall heartbeats or order sending. A line is in the file (page cache) once its write is done,
 * so a kill -9 loses at most the lines still queued; a closed segment is fsynced before anyone is
 * told, and counts as open (openSeq) until then, so sealing never reads a segment still written.
 */
export class SegmentWriter implements SerialSink<SegmentItem> {
  private open: SegmentRef | null = null;
  private openedAt = 0;
  private bytes = 0;
  private nextSeq: number;
  private timer: NodeJS.Timeout | null = null;
  /** Segments closed (by append) whose lines and sync are still queued or under way. */
  private readonly closing = new Set<number>();
  private readonly queue: SerialWriter<SegmentItem>;
  private readonly openFile: OpenSegmentFile;
  /** The file being written to, and its segment. */
  private file: SegmentFile | null = null;
  private fileSeq: number | null = null;
  /** The lines whose appendFile is under way (at exit they may or may not be in the file). */
  private appending: SegmentItem[] = [];
  /** Lines the disk failed to take, since start. */
  private lostLines = 0;
  private lostAtFailure = 0;
  private lostInLastReset = 0;

  constructor(private readonly options: SegmentWriterOptions) {
    mkdirSync(segmentsDir(options.dir), { recursive: true });
    this.nextSeq = options.firstSeq;
    this.openFile = options.openFile ?? openSegmentFile;
    this.queue = new SerialWriter<SegmentItem>({
      sink: this,
      maxQueuedBytes: options.maxQueuedBytes ?? SEGMENT_QUEUE_BYTES,
      dropMark: (n) => this.dropMark(n),
      ...(options.onDropping ? { onDropping: options.onDropping } : {}),
      onFailure: (err) => {
        // reset() has already counted the failed batch's lines: they belong to this failure.
        this.lostAtFailure = this.lostLines - this.lostInLastReset;
        options.onFailure?.(err);
      },
      // The queue counts items (closes too); the operator wants lines.
      onRecovery: () => options.onRecovery?.(this.lostLines - this.lostAtFailure),
    });
  }

  start(): void {
    const every = Math.max(50, Math.min(1000, Math.floor(this.options.maxMs / 4)));
    this.timer = setInterval(() => this.rotateIfDue(), every);
    this.timer.unref();
  }

  /** Lowest sequence still open or being written or synced, or null. Segments below it are closed and synced. */
  get openSeq(): number | null {
    const seqs = [...this.closing, ...(this.open ? [this.open.seq] : [])];
    return seqs.length ? Math.min(...seqs) : null;
  }

  /** Lines dropped (the disk did not keep up) or lost (the disk failed), since start. */
  get linesLost(): number {
    return this.queue.dropped + this.lostLines;
  }

  /** Queue one line. Never blocks, never throws. */
  append(line: string): void {
    const data = `${line}\n`;
    const size = Buffer.byteLength(data, 'utf8');
    const now = this.options.clock.now();
    if (this.open) {
      const tooBig = this.bytes > 0 && this.bytes + size > this.options.maxBytes;
      if (tooBig || this.isDue(now)) this.close();
    }
    const seg = this.open ?? this.openSegment(now);
    if (this.queue.append({ seg, data }, size)) this.bytes += size;
  }

  rotateIfDue(): void {
    if (this.open && this.isDue(this.options.clock.now())) this.close();
  }

  /**
   * Close the open segment (if any): its sync is queued behind its lines, and onClosed is told
   * once it is done. A kill -9 meanwhile loses nothing written: the next start seals the segment.
   */
  close(): void {
    if (!this.open) return;
    const seg = this.open;
    this.open = null;
    this.closing.add(seg.seq);
    // Never dropped: openSeq waits for it.
    this.queue.append({ seg, close: true }, 0, true);
  }

  /**
   * Close the open segment and wait until every line is written and every closed segment synced,
   * `timeoutMs` at most (false: the disk did not answer in time; the rest goes on in the background).
   */
  async stop(timeoutMs = 5000): Promise<boolean> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    // A pending "N lines dropped" mark goes into the open segment before it closes.
    this.queue.markDrops();
    this.close();
    return this.queue.flushWithin(timeoutMs);
  }

  /** SerialSink: write a batch in order, one appendFile per run of lines for the same segment. */
  async write(items: SegmentItem[], written: (n: number) => void): Promise<void> {
    let i = 0;
    while (i < items.length) {
      const item = items[i]!;
      if ('close' in item) {
        await this.finish(item.seg, true);
        written(++i);
        continue;
      }
      let data = '';
      let j = i;
      for (; j < items.length; j++) {
        const next = items[j]!;
        if ('close' in next || next.seg.seq !== item.seg.seq) break;
        data += next.data;
      }
      if (this.fileSeq !== item.seg.seq) {
        await this.release();
        this.file = await this.openFile(item.seg.file);
        this.fileSeq = item.seg.seq;
      }
      this.appending = items.slice(i, j);
      await this.file!.appendFile(data);
      this.appending = [];
      i = j;
      written(i);
    }
  }

  /**
   * SerialSink, after a failed write: the lines not written are lost (counted); the closes among
   * them still happen (without waiting for the failed disk's sync), or openSeq would stay stuck.
   */
  async reset(unwritten: SegmentItem[] = []): Promise<void> {
    await this.release();
    this.appending = [];
    const before = this.lostLines;
    for (const item of unwritten) {
      if ('close' in item) await this.finish(item.seg, false);
      else this.lostLines++;
    }
    this.lostInLastReset = this.lostLines - before;
  }

  /**
   * SerialSink, at process exit: the lines not written yet, appended synchronously. A line whose
   * write had started may be in the file already: written twice it would be shipped twice, so it
   * is left (lost at worst, as with a kill -9).
   */
  writeSync(unconfirmed: SegmentItem[], queued: SegmentItem[]): void {
    const started = new Set(this.appending);
    for (const item of [...unconfirmed, ...queued])
      if (!('close' in item) && !started.has(item)) appendFileSync(item.seg.file, item.data);
  }

  /** Close a segment's file (synced unless the disk just failed), then say so, once. */
  private async finish(seg: SegmentRef, sync: boolean): Promise<void> {
    // A sync that failed has finished it already; reset() then hands the close over again.
    if (!this.closing.has(seg.seq)) return;
    try {
      if (this.fileSeq === seg.seq && this.file) {
        const file = this.file;
        this.file = null;
        this.fileSeq = null;
        try {
          if (sync) await file.sync().catch(unlessUnsupported);
        } finally {
          await file.close().catch(() => undefined);
        }
      }
    } finally {
      this.closing.delete(seg.seq);
      this.options.onClosed?.(seg);
    }
  }

  private async release(): Promise<void> {
    const file = this.file;
    this.file = null;
    this.fileSeq = null;
    await file?.close().catch(() => undefined);
  }

  private dropMark(n: number): { item: SegmentItem; bytes: number } | null {
    const seg = this.open;
    const line = this.options.droppedLine?.(n);
    if (!seg || line === undefined) return null;
    const data = `${line}\n`;
    const bytes = Buffer.byteLength(data, 'utf8');
    this.bytes += bytes;
    return { item: { seg, data }, bytes };
  }

  private isDue(now: number): boolean {
    return now - this.openedAt >= this.options.maxMs || cstDate(now) !== this.open?.date;
  }

  private openSegment(now: number): SegmentRef {
    const seq = this.nextSeq++;
    const date = cstDate(now);
    const file = path.join(segmentsDir(this.options.dir), `${date}-${seqName(seq)}.jsonl`);
    this.open = { seq, date, file };
    this.openedAt = now;
    this.bytes = 0;
    return this.open;
  }
}
