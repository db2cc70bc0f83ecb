/**
 * An ordered, bounded, asynchronous writer: the part of a log file that keeps the disk off the
 * event loop. append() queues an item and returns at once; one write at a time drains the queue
 * in order, taking everything queued so far as one batch. Past `maxQueuedBytes` (queued plus in
 * flight) items are counted and dropped, and one mark item says how many where they are missing.
 * A failing disk is reported once (onFailure) and its recovery once (onRecovery); items of a
 * failed batch are counted as failed. What the sink writes (one file that rotates, segment files)
 * is the sink's business. Used by gateway.log (gateway/logfile.ts) and the log segments
 * (logs/segments.ts): a slow or stuck disk must never stall heartbeats or order sending.
 */

/** Where a SerialWriter's batches go. */
export interface SerialSink<T> {
  /** Writes the items in order; `written(n)` says the first n are in the file. Rejects on failure. */
  write(items: T[], written: (n: number) => void): Promise<void>;
  /**
   * After a failed write: let go of what it left (an open handle). `unwritten` are the items of
   * the batch not confirmed written (lost, unless the sink can still do something with them).
   */
  reset(unwritten: T[]): Promise<void>;
  /**
   * At process exit, synchronously: `queued` never started to be written; `unconfirmed` are the
   * rest of the batch in flight, which may or may not be in the file (the sink decides: a line
   * twice, or one maybe lost).
   */
  writeSync(unconfirmed: T[], queued: T[]): void;
}

export interface SerialWriterOptions<T> {
  sink: SerialSink<T>;
  /** Bytes that may wait in memory (queued and being written) before items are dropped. */
  maxQueuedBytes: number;
  /** The item put where `n` items had to be dropped, or null for none. */
  dropMark?: (n: number) => { item: T; bytes: number } | null;
  /** Items began to be dropped (once per run of drops, until the mark is queued). */
  onDropping?: () => void;
  /** The disk failed (first failure after a success); items are lost until it works again. */
  onFailure?: (err: Error) => void;
  /** The disk works again; `lost` items could not be written meanwhile. */
  onRecovery?: (lost: number) => void;
  /** After a failed write, wait this long before trying the disk again (items queue meanwhile). */
  retryAfterMs?: number;
}

interface Entry<T> {
  item: T;
  bytes: number;
}

/** How old the write in flight may be at exit before the disk counts as stuck (no sync write then). */
const STUCK_AFTER_MS = 2000;
const RETRY_AFTER_FAILURE_MS = 1000;

/** Writers with items still held, written synchronously if the process exits before a flush. */
const unflushed = new Set<SerialWriter<unknown>>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const writer of unflushed) writer.writeQueuedSync();
  });
}

/** A callback's own failure must not stop the writer (its caller is usually a log). */
function quietly(fn: () => void): void {
  try {
    fn();
  } catch {
    // Nothing to report to: reporting goes through the log this writer serves.
  }
}

export class SerialWriter<T> {
  private queue: Entry<T>[] = [];
  /** Bytes queued plus bytes of the batch being written. */
  private heldBytes = 0;
  private droppedSinceMark = 0;
  private draining = false;
  /** When the write in flight started (null: none), to tell a stuck disk at exit. */
  private writingSince: number | null = null;
  /** The batch being written, and how many of its items are confirmed in the file. */
  private inFlight: Entry<T>[] = [];
  private inFlightDone = 0;
  /** Items queued since start, and items written or given up on: flush() waits on these. */
  private enqueued = 0;
  private settled = 0;
  private flushWaiters: { target: number; resolve: () => void }[] = [];
  private failing = false;
  private lostWhileFailing = 0;
  /** Items dropped because the queue was full, since start. */
  dropped = 0;
  /** Items lost because the disk failed, since start. */
  failed = 0;

  constructor(private readonly options: SerialWriterOptions<T>) {}

  /** True while anything is queued or being written. */
  get busy(): boolean {
    return this.draining;
  }

  /**
   * Queue one item. Never blocks, never throws. `force` passes the bound (for the few items
   * that carry structure, such as "close this segment", and must not be lost to a lagging disk).
   * False when the item was dropped.
   */
  append(item: T, bytes: number, force = false): boolean {
    if (!force && this.heldBytes + bytes > this.options.maxQueuedBytes) {
      if (this.droppedSinceMark++ === 0) quietly(() => this.options.onDropping?.());
      this.dropped++;
      return false;
    }
    if (!force) this.markDrops();
    this.enqueue(item, bytes);
    return true;
  }

  /** Resolves once every item queued before the call is written (or counted as failed). */
  flush(): Promise<void> {
    this.markDrops();
    const target = this.enqueued;
    if (this.settled >= target) return Promise.resolve();
    return new Promise((resolve) => this.flushWaiters.push({ target, resolve }));
  }

  /** flush(), given up on after `timeoutMs` (false): a stop must not hang on a stuck disk. */
  async flushWithin(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const flushed = await Promise.race([
      this.flush().then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    return flushed;
  }

  /** Last resort at process exit: what is still held goes out synchronously. */
  writeQueuedSync(): void {
    this.markDrops();
    if (this.queue.length === 0 && this.inFlight.length === this.inFlightDone) return;
    // A disk that has not finished the last write in time would hang the exit too: give up.
    if (this.failing || (this.writingSince !== null && Date.now() - this.writingSince > STUCK_AFTER_MS))
      return;
    const unconfirmed = this.inFlight.slice(this.inFlightDone).map((e) => e.item);
    const queued = this.queue.map((e) => e.item);
    this.queue = [];
    this.inFlight = [];
    this.inFlightDone = 0;
    this.settle(queued.length);
    quietly(() => this.options.sink.writeSync(unconfirmed, queued));
  }

  /** Queue the "N items dropped" mark now, if items were dropped since the last one (flush() does too). */
  markDrops(): void {
    if (this.droppedSinceMark === 0) return;
    const mark = this.options.dropMark?.(this.droppedSinceMark) ?? null;
    this.droppedSinceMark = 0;
    // The mark may pass the bound by one item: it is what says items are missing.
    if (mark) this.enqueue(mark.item, mark.bytes);
  }

  private enqueue(item: T, bytes: number): void {
    this.queue.push({ item, bytes });
    this.heldBytes += bytes;
    this.enqueued++;
    unflushed.add(this as SerialWriter<unknown>);
    installExitHook();
    if (!this.draining) {
      this.draining = true;
      // Nobody awaits the drain. It catches the sink's failures itself (onFailure); anything else
      // that escapes is reported the same way rather than left as an unhandled rejection.
      this.drain().catch((err: unknown) => quietly(() => this.options.onFailure?.(err as Error)));
    }
  }

  private settle(items: number): void {
    this.settled += items;
    const due = this.flushWaiters.filter((w) => w.target <= this.settled);
    if (due.length === 0) return;
    this.flushWaiters = this.flushWaiters.filter((w) => w.target > this.settled);
    for (const w of due) w.resolve();
  }

  /** The one writer: runs while items are queued; never rejects. */
  private async drain(): Promise<void> {
    const retryMs = this.options.retryAfterMs ?? RETRY_AFTER_FAILURE_MS;
    while (this.queue.length > 0) {
      if (this.failing) await new Promise((r) => setTimeout(r, retryMs).unref());
      const batch = this.queue;
      this.queue = [];
      let bytes = 0;
      for (const e of batch) bytes += e.bytes;
      try {
        this.writingSince = Date.now();
        this.inFlight = batch;
        this.inFlightDone = 0;
        await this.options.sink.write(
          batch.map((e) => e.item),
          (n) => (this.inFlightDone = n),
        );
        if (this.failing) {
          this.failing = false;
          quietly(() => this.options.onRecovery?.(this.lostWhileFailing));
          this.lostWhileFailing = 0;
        }
      } catch (err) {
        const unwritten = batch.slice(this.inFlightDone).map((e) => e.item);
        this.failed += unwritten.length;
        this.lostWhileFailing += unwritten.length;
        await this.options.sink.reset(unwritten).catch(() => undefined);
        if (!this.failing) {
          this.failing = true;
          // An item the callback queues lands in this.queue and is taken by the next turn.
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
    unflushed.delete(this as SerialWriter<unknown>);
  }
}
