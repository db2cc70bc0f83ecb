import { appendFileSync } from 'node:fs';
import { open, rename, type FileHandle } from 'node:fs/promises';
import { SerialWriter, type SerialSink } from '../shared/index.js';

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
/** How long close() waits for the disk. */
const CLOSE_TIMEOUT_MS = 5000;

/** The file behind the queue (shared/serialwriter.ts): writes batches, rotating by size. */
export class RotatingLogFile implements SerialSink<string> {
  private readonly maxBytes: number;
  private readonly keep: number;
  private readonly queue: SerialWriter<string>;
  private handle: FileHandle | null = null;
  private size = 0;

  constructor(private readonly options: RotatingLogFileOptions) {
    this.maxBytes = options.maxBytes ?? LOG_ROTATE_BYTES;
    this.keep = options.keep ?? LOG_KEEP_FILES;
    this.queue = new SerialWriter<string>({
      sink: this,
      maxQueuedBytes: options.maxQueuedBytes ?? LOG_QUEUE_BYTES,
      dropMark: (n) => {
        const mark = options.droppedLine(n);
        return { item: mark, bytes: Buffer.byteLength(mark, 'utf8') };
      },
      ...(options.onFailure ? { onFailure: options.onFailure } : {}),
      ...(options.onRecovery ? { onRecovery: options.onRecovery } : {}),
    });
  }

  /** Lines dropped because the queue was full, since start (for tests and status). */
  get dropped(): number {
    return this.queue.dropped;
  }

  /** Lines lost because the file could not be written, since start. */
  get failed(): number {
    return this.queue.failed;
  }

  /** Queue one line (with its newline). Never blocks, never throws. */
  append(line: string): void {
    this.queue.append(line, Buffer.byteLength(line, 'utf8'));
  }

  /** Resolves once every line queued before the call is in the file (or counted as failed). */
  flush(): Promise<void> {
    return this.queue.flush();
  }

  /**
   * Flush, then close the file; a later append opens it again. A disk that does not answer
   * within `timeoutMs` is given up on (false): a stop must not hang on the log.
   */
  async close(timeoutMs = CLOSE_TIMEOUT_MS): Promise<boolean> {
    const flushed = await this.queue.flushWithin(timeoutMs);
    if (!flushed || this.queue.busy) return flushed;
    const handle = this.handle;
    this.handle = null;
    await handle?.close().catch(() => undefined);
    return true;
  }

  /** Last resort at process exit: what is still queued goes out synchronously. */
  writeQueuedSync(): void {
    this.queue.writeQueuedSync();
  }

  /** At exit: the unconfirmed lines go again too (rather a line twice than lost). */
  writeSync(unconfirmed: string[], queued: string[]): void {
    appendFileSync(this.options.file, [...unconfirmed, ...queued].join(''));
  }

  async reset(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    await handle?.close().catch(() => undefined);
  }

  /** Write the lines in order, rotating between them so no file passes maxBytes. */
  async write(batch: string[], written: (n: number) => void): Promise<void> {
    if (!this.handle) {
      this.handle = await open(this.options.file, 'a', 0o640);
      this.size = (await this.handle.stat()).size;
    }
    let from = 0;
    let chunkBytes = 0;
    const writeChunk = async (to: number): Promise<void> => {
      if (to > from) await this.handle!.appendFile(batch.slice(from, to).join(''));
      this.size += chunkBytes;
      written(to);
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
