import { appendFileSync } from 'node:fs';
import { open, rename, type FileHandle } from 'node:fs/promises';

/**
 * state_dir/gateway.log, written off the order path. The operator log used to append each line
 * with appendFileSync: a slow or stuck disk then stalled the event loop, and with it heartbeats,
 * answers and order sending. Here a line is queued and the call returns at once; one write at a
 * time drains the queue in order. The queue is bounded: when the disk cannot keep up, lines past
 * the bound are counted and dropped (they still reach stdout, the ring and log shipping), and one
 * line in the file says how many are missing. The file rotates by size like logrotate does:
 * gateway.log, gateway.log.1 (the newest full one), ... gateway.log.<keep>.
 */
export interface RotatingLogFileOptions {
  file: string;
  /** Rotate before a write would take the file past this size (bytes). */
  maxBytes?: number;
  /** Full files kept besides the live one (gateway.log.1 .. gateway.log.<keep>). */
  keep?: number;
  /** Bytes that may wait in memory (queued and being written) before lines are dropped. */
  maxQueuedBytes?: number;
  /** The line (with its newline) put in the file where `n` lines had to be dropped. */
  droppedLine: (n: number) => string;
  /** The file failed (first failure after a success); lines are lost until it works again. */
  onFailure?: (err: Error) => void;
  /** The file works again; `lost` lines could not be written meanwhile. */
  onRecovery?: (lost: number) => void;
}

export const LOG_ROTATE_BYTES = 10 * 1024 * 1024;
export const LOG_KEEP_FILES = 5;
export const LOG_QUEUE_BYTES = 4 * 1024 * 1024;
/** After a failed write, wait this long before trying the disk again (lines queue meanwhile). */
const RETRY_AFTER_FAILURE_MS = 1000;
/** How long close() waits for the disk, and how old a write may be before the disk counts as stuck. */
const CLOSE_TIMEOUT_MS = 5000;
const STUCK_AFTER_MS = 2000;

/** Writers with lines still queued, written synchronously if the process exits before a flush. */
const unflushed = new Set<RotatingLogFile>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const writer of unflushed) writer.writeQueuedSync();
  });
}

/** A callback's own failure must not stop the writer (its caller is the log itself). */
function quietly(fn: () => void): void {
  try {
    fn();
  } catch {
    // Nothing to report to: reporting goes through the log this writer serves.
  }
}

export class RotatingLogFile {
  private readonly maxBytes: number;
  private readonly keep: number;
  private readonly maxQueuedBytes: number;
  private queue: string[] = [];
  /** Bytes queued plus bytes of the batch being written. */
  private heldBytes = 0;
  private droppedSinceMark = 0;
  private handle: FileHandle | null = null;
  private size = 0;
  private draining = false;
  /** When the write in flight started (null: none), to tell a stuck disk at exit. */
  private writingSince: number | null = null;
  /** The batch being written, and how many of its lines are confirmed in the file. */
  private inFlight: string[] = [];
  private inFlightDone = 0;
  /** Lines queued since start, and lines written or given up on: flush() waits on these. */
  private enqueued = 0;
  private settled = 0;
  private flushWaiters: { target: number; resolve: () => void }[] = [];
  private failing = false;
  private lostWhileFailing = 0;
  /** Lines dropped because the queue was full, since start (for tests and status). */
  dropped = 0;
  /** Lines lost because the file could not be written, since start. */
  failed = 0;

  constructor(private readonly options: RotatingLogFileOptions) {
    this.maxBytes = options.maxBytes ?? LOG_ROTATE_BYTES;
    this.keep = options.keep ?? LOG_KEEP_FILES;
    this.maxQueuedBytes = options.maxQueuedBytes ?? LOG_QUEUE_BYTES;
  }

  /** Queue one line (with its newline). Never blocks, never throws. */
  append(line: string): void {
    const bytes = Buffer.byteLength(line, 'utf8');
    if (this.heldBytes + bytes > this.maxQueuedBytes) {
      this.droppedSinceMark++;
      this.dropped++;
      return;
    }
    this.markDrops();
    this.enqueue(line, bytes);
  }

  /** Resolves once every line queued before the call is in the file (or counted as failed). */
  flush(): Promise<void> {
    this.markDrops();
    const target = this.enqueued;
    if (this.settled >= target) return Promise.resolve();
    return new Promise((resolve) => this.flushWaiters.push({ target, resolve }));
  }

  /**
   * Flush, then close the file; a later append opens it again. A disk that does not answer
   * within `timeoutMs` is given up on (false): a stop must not hang on the log.
   */
  async close(timeoutMs = CLOSE_TIMEOUT_MS): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const flushed = await Promise.race([
      this.flush().then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (!flushed || this.draining) return flushed;
    const handle = this.handle;
    this.handle = null;
    await handle?.close().catch(() => undefined);
    return true;
  }

  /** Last resort at process exit: what is still queued goes out synchronously. */
  writeQueuedSync(): void {
    this.markDrops();
    if (this.queue.length === 0 && this.inFlight.length === this.inFlightDone) return;
    // A disk that has not finished the last write in time would hang the exit too: give up.
    if (this.failing || (this.writingSince !== null && Date.now() - this.writingSince > STUCK_AFTER_MS))
      return;
    // The batch in flight is not confirmed written: it goes too (rather a line twice than lost).
    const data = [...this.inFlight.slice(this.inFlightDone), ...this.queue].join('');
    const lines = this.queue.length;
    this.queue = [];
    this.inFlight = [];
    this.inFlightDone = 0;
    this.settle(lines);
    try {
      appendFileSync(this.options.file, data);
    } catch {
      // The process is exiting; there is no one left to tell.
    }
  }

  private markDrops(): void {
    if (this.droppedSinceMark === 0) return;
    const mark = this.options.droppedLine(this.droppedSinceMark);
    this.droppedSinceMark = 0;
    // The mark may pass the bound by one line: it is what says lines are missing.
    this.enqueue(mark, Buffer.byteLength(mark, 'utf8'));
  }

  private enqueue(line: string, bytes: number): void {
    this.queue.push(line);
    this.heldBytes += bytes;
    this.enqueued++;
    unflushed.add(this);
    installExitHook();
    if (!this.draining) {
      this.draining = true;
      void this.drain();
    }
  }

  private settle(lines: number): void {
    this.settled += lines;
    const due = this.flushWaiters.filter((w) => w.target <= this.settled);
    if (due.length === 0) return;
    this.flushWaiters = this.flushWaiters.filter((w) => w.target > this.settled);
    for (const w of due) w.resolve();
  }

  /** The one writer: runs while lines are queued; never rejects. */
  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      if (this.failing) await new Promise((r) => setTimeout(r, RETRY_AFTER_FAILURE_MS).unref());
      const batch = this.queue;
      this.queue = [];
      let bytes = 0;
      for (const line of batch) bytes += Buffer.byteLength(line, 'utf8');
      try {
        this.writingSince = Date.now();
        this.inFlight = batch;
        this.inFlightDone = 0;
        await this.writeBatch(batch);
        if (this.failing) {
          this.failing = false;
          quietly(() => this.options.onRecovery?.(this.lostWhileFailing));
          this.lostWhileFailing = 0;
        }
      } catch (err) {
        this.failed += batch.length;
        this.lostWhileFailing += batch.length;
        const handle = this.handle;
        this.handle = null;
        await handle?.close().catch(() => undefined);
        if (!this.failing) {
          this.failing = true;
          // A line the callback writes lands in this.queue and is taken by the next turn.
          quietly(() => this.options.onFailure?.(err as Error));
        }
      } finally {
        this.writingSince = null;
        this.inFlight = [];
        this.inFlightDone = 0;
        this.heldBytes -= bytes;
        this.settle(batch.length);
      }
    }
    this.draining = false;
    unflushed.delete(this);
  }

  /** Write the lines in order, rotating between them so no file passes maxBytes. */
  private async writeBatch(batch: string[]): Promise<void> {
    if (!this.handle) {
      this.handle = await open(this.options.file, 'a', 0o640);
      this.size = (await this.handle.stat()).size;
    }
    let from = 0;
    let chunkBytes = 0;
    const writeChunk = async (to: number): Promise<void> => {
      if (to > from) await this.handle!.appendFile(batch.slice(from, to).join(''));
      this.size += chunkBytes;
      this.inFlightDone = to;
      from = to;
      chunkBytes = 0;
    };
    for (let i = 0; i < batch.length; i++) {
      const n = Buffer.byteLength(batch[i]!, 'utf8');
      if (this.size + chunkBytes + n > this.maxBytes && this.size + chunkBytes > 0) {
        await writeChunk(i);
        await this.rotate();
      }
      chunkBytes += n;
    }
    await writeChunk(batch.length);
  }

  /** gateway.log.<i> → .<i+1> (the oldest is overwritten), gateway.log → .1, a fresh gateway.log. */
  private async rotate(): Promise<void> {
    const { file } = this.options;
    await this.handle?.close();
    this.handle = null;
    for (let i = this.keep - 1; i >= 1; i--) {
      await rename(`${file}.${i}`, `${file}.${i + 1}`).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') throw err;
      });
    }
    if (this.keep >= 1) await rename(file, `${file}.1`);
    this.handle = await open(file, this.keep >= 1 ? 'a' : 'w', 0o640);
    this.size = 0;
  }
}
