import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Clock } from '../shared/index.js';
import { Backoff } from './backoff.js';
import { KeyConflictError, StoreAbortedError } from './errors.js';
import type { Spool, SpoolEntry } from './spool.js';
import type { ObjectStore } from './store.js';

/** Consecutive failures before the operator log is told (NQ822); each one sets lastError. */
export const FAILURES_BEFORE_WARNING = 3;

/** What the ops room publishes; a plain object, read whenever wanted. */
export interface ShipMetrics {
  shipping: boolean;
  spoolBytes: number;
  spoolMaxBytes: number;
  spoolSegments: number;
  heldSegments: number;
  oldestUnshippedAgeMs: number | null;
  objectsShipped: number;
  replaysSkipped: number;
  failures: number;
  linesDropped: number;
  alarm: 'ok' | 'high' | 'full';
  /** The error of the current run of failures; null once a round succeeds (shipping healthy). */
  lastError: string | null;
  /** Epoch ms of the latest failure, kept after recovery (when it last went wrong). */
  lastFailureAt: number | null;
  lastShippedKey: string | null;
}

export interface ShipperOptions {
  spool: Spool;
  store: ObjectStore;
  clock: Clock;
  spoolMaxBytes: number;
  alarmPct: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** Sequence number of the writer's open segment (not to be sealed yet). */
  openSeq: () => number | null;
  /** Lines the writer could not put on local disk (loud where it happens). */
  linesDropped: () => number;
  /** Loud events: the spool alarm, conflicts, failures after a run of successes. */
  onEvent: (level: 'info' | 'warn' | 'error', text: string, code: string) => void;
  statusFile: string;
}

/**
 * Ships sealed segments one at a time, lowest sequence first, and never gives up on one: a
 * failure waits a capped, jittered backoff and tries the same segment again. Each upload is
 * HEAD then PUT: an object already there with our checksum was shipped before a crash and is
 * not sent again; one with other content is never overwritten (loud, and ours goes beside it).
 */
export class Shipper {
  private running = false;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  private readonly backoff: Backoff;
  private readonly m: ShipMetrics;
  private statusTimer: NodeJS.Timeout | null = null;
  /** Closed segments the last sealing left out for lack of room (the full policy at work). */
  private heldForRoom = 0;
  /** Failures since the last success, and whether NQ822 was said for them. */
  private failuresInRun = 0;
  private warned = false;
  /** In flush(): events are no longer said (the operator log has stopped feeding us). */
  private stopping = false;

  constructor(private readonly o: ShipperOptions) {
    this.backoff = new Backoff(o.backoffInitialMs, o.backoffMaxMs);
    this.m = {
      shipping: true,
      spoolBytes: 0,
      spoolMaxBytes: o.spoolMaxBytes,
      spoolSegments: 0,
      heldSegments: 0,
      oldestUnshippedAgeMs: null,
      objectsShipped: 0,
      replaysSkipped: 0,
      failures: 0,
      linesDropped: 0,
      alarm: 'ok',
      lastError: null,
      lastFailureAt: null,
      lastShippedKey: null,
    };
  }

  start(): void {
    this.running = true;
    this.loop = this.run();
    this.statusTimer = setInterval(() => this.writeStatus(), 1000);
    this.statusTimer.unref();
  }

  /** A segment was closed: look at the spool now rather than at the next tick. */
  kick(): void {
    this.wake?.();
  }

  metrics(): ShipMetrics {
    return { ...this.m, linesDropped: this.o.linesDropped() };
  }

  /**
   * Ship what is there until the spool is empty or the deadline passes; then stop. The store is
   * told the deadline too, so no request outlives it, and whatever is still running then is
   * aborted: the stop takes at most timeoutMs whatever the store does (a store that accepts and
   * never answers included). What was not shipped stays in the spool for the next start.
   */
  async flush(timeoutMs: number): Promise<boolean> {
    const deadline = this.o.clock.now() + timeoutMs;
    this.stopping = true;
    this.o.store.setDeadline(Date.now() + timeoutMs);
    try {
      this.heldForRoom = await this.o.spool.sealPending(this.o.openSeq(), this.o.clock.now(), () =>
        this.refresh(),
      );
      this.refresh();
    } catch {
      // the loop reports it
    }
    while (this.o.clock.now() < deadline) {
      this.kick();
      if (this.m.spoolSegments === 0 && this.m.heldSegments === 0) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    const drained = this.m.spoolSegments === 0 && this.m.heldSegments === 0;
    await this.stop();
    return drained;
  }

  async stop(): Promise<void> {
    this.running = false;
    this.kick();
    if (this.statusTimer) clearInterval(this.statusTimer);
    // A request still running now would hold the stop for as long as the store likes.
    this.o.store.abortAll();
    await this.loop;
    try {
      this.refresh();
    } catch {
      // keep the last figures
    }
    this.writeStatus();
  }

  private async run(): Promise<void> {
    while (this.running) {
      try {
        this.heldForRoom = await this.o.spool.sealPending(this.o.openSeq(), this.o.clock.now(), () =>
          this.refresh(),
        );
        this.refresh();
        const next = this.o.spool.entries()[0];
        if (!next) {
          this.recovered();
          await this.sleep(1000);
          continue;
        }
        await this.ship(next);
        this.backoff.reset();
        this.recovered();
      } catch (err) {
        // Cut short by our own stop: not the store's failure, and nothing to retry now.
        if (!this.running && err instanceof StoreAbortedError) break;
        // Store errors and local ones (a full disk while sealing) alike: wait, then the same again.
        this.failed(err as Error);
        await this.sleep(this.backoff.next());
      }
    }
  }

  /**
   * A failure: counted and kept as lastError at once; said in the operator log once per run of
   * failures, when it reaches FAILURES_BEFORE_WARNING (a lone 503 or reset is routine for a real
   * store and the retry handles it). Not while stopping: the operator log no longer reaches the
   * log service then, and the stop prints its own summary.
   */
  private failed(err: Error): void {
    this.m.failures++;
    this.m.lastFailureAt = this.o.clock.now();
    this.m.lastError = `${err.name}: ${err.message}`;
    this.failuresInRun++;
    if (err instanceof KeyConflictError) this.o.onEvent('error', err.message, err.code);
    else if (this.failuresInRun === FAILURES_BEFORE_WARNING && !this.stopping) {
      this.warned = true;
      this.o.onEvent(
        'warn',
        `日志上传对象存储连续失败 ${this.failuresInRun} 次, 持续重试中, 日志暂存本地不丢失: ${this.m.lastError}`,
        'NQ822',
      );
    }
  }

  /**
   * A round went through (a segment shipped, or nothing left to ship with sealing fine): the
   * error of the last failing run is history, and status, /api/status and metrics say so.
   */
  private recovered(): void {
    if (this.m.lastError === null) return;
    if (this.warned && !this.stopping)
      this.o.onEvent('info', `日志上传对象存储已恢复 (此前连续失败 ${this.failuresInRun} 次)`, 'NQ823');
    this.m.lastError = null;
    this.failuresInRun = 0;
    this.warned = false;
  }

  private async ship(sealed: SpoolEntry): Promise<void> {
    const { gz, entry } = await this.o.spool.body(sealed);
    let key = entry.key;
    const there = await this.o.store.head(key);
    if (there && there.sha256 !== entry.gzSha256) {
      const conflict = new KeyConflictError(
        key,
        `stored sha256 ${there.sha256 ?? 'none'}, ours ${entry.gzSha256}`,
      );
      this.o.onEvent('error', conflict.message, conflict.code);
      key = key.replace(/\.jsonl\.gz$/, `.${entry.gzSha256.slice(0, 16)}.jsonl.gz`);
      const beside = await this.o.store.head(key);
      if (beside && beside.sha256 !== entry.gzSha256) throw conflict;
      if (!beside) await this.o.store.put(key, gz, entry.gzMd5, entry.gzSha256, 'application/gzip');
      else this.m.replaysSkipped++;
    } else if (there) {
      this.m.replaysSkipped++;
    } else {
      await this.o.store.put(key, gz, entry.gzMd5, entry.gzSha256, 'application/gzip');
    }
    await this.o.spool.remove(entry);
    this.m.objectsShipped++;
    this.m.lastShippedKey = key;
  }

  private refresh(): void {
    this.m.linesDropped = this.o.linesDropped();
    const entries = this.o.spool.entries();
    const openSeq = this.o.openSeq();
    this.m.spoolSegments = entries.length;
    this.m.spoolBytes = entries.reduce((s, e) => s + e.gzBytes, 0);
    this.m.heldSegments = this.o.spool.held(openSeq).length;
    const oldest = this.o.spool.oldestUnshipped(openSeq);
    this.m.oldestUnshippedAgeMs = oldest === null ? null : Math.max(0, this.o.clock.now() - oldest);
    const pct = (100 * this.m.spoolBytes) / this.o.spoolMaxBytes;
    const alarm = this.heldForRoom > 0 ? 'full' : pct >= this.o.alarmPct ? 'high' : 'ok';
    if (alarm !== this.m.alarm) {
      const words = {
        ok: ['info', `日志缓存恢复正常: ${pct.toFixed(0)}%`, 'NQ810'],
        high: [
          'warn',
          `日志缓存告警: 已用 ${pct.toFixed(0)}% (告警线 ${this.o.alarmPct}%), 对象存储上传落后`,
          'NQ811',
        ],
        full: [
          'error',
          `日志缓存已满: 新日志段暂留本地日志目录, 不丢弃, 待上传腾出空间后依次入缓存 (${this.m.heldSegments} 段)`,
          'NQ812',
        ],
      } as const;
      const [level, text, code] = words[alarm];
      this.m.alarm = alarm;
      this.o.onEvent(level, text, code);
    }
  }

  private writeStatus(): void {
    try {
      // Advisory, for `nqgw logs ship-status`: atomic (rename) but not synced.
      writeFileSync(
        `${this.o.statusFile}.tmp`,
        JSON.stringify({ at: this.o.clock.now(), ...this.metrics() }),
      );
      renameSync(`${this.o.statusFile}.tmp`, this.o.statusFile);
    } catch {
      // status is advisory; the metrics getter is the truth
    }
  }

  private sleep(ms: number): Promise<void> {
    // Stopping: a wake-up sent before this sleep began would otherwise be missed.
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }
}

export const SHIP_STATUS_FILE = 'ship-status.json';
export const shipStatusPath = (dir: string): string => path.join(dir, SHIP_STATUS_FILE);
