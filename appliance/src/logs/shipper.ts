import { renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Clock } from '../shared/index.js';
import { Backoff } from './backoff.js';
import { KeyConflictError } from './errors.js';
import type { Spool, SpoolEntry } from './spool.js';
import type { ObjectStore } from './store.js';

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
  lastError: string | null;
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

  /** Ship what is there until the spool is empty or the deadline passes; then stop. */
  async flush(timeoutMs: number): Promise<boolean> {
    const deadline = this.o.clock.now() + timeoutMs;
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
          await this.sleep(1000);
          continue;
        }
        await this.ship(next);
        this.backoff.reset();
      } catch (err) {
        // Store errors and local ones (a full disk while sealing) alike: wait, then the same again.
        this.m.failures++;
        this.m.lastError = `${(err as Error).name}: ${(err as Error).message}`;
        if (err instanceof KeyConflictError) this.o.onEvent('error', err.message, err.code);
        await this.sleep(this.backoff.next());
      }
    }
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
