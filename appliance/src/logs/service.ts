import { mkdirSync } from 'node:fs';
import type winston from 'winston';
import { cstDate, systemClock, type Clock } from '../shared/index.js';
import { pruneSegments, RETENTION_FAILED_CODE, retentionLines } from './retention.js';
import { listSegments, SegmentWriter, seqName, type OpenSegmentFile, type SegmentRef } from './segments.js';
import type { LogSettings } from './settings.js';
import { Shipper, shipStatusPath, type ShipMetrics } from './shipper.js';
import { Spool } from './spool.js';
import { ObjectStore } from './store.js';
import { createStructuredLogger } from './transport.js';

export interface LogLine {
  time: number;
  level: 'info' | 'warn' | 'error';
  code?: string;
  text: string;
}

export interface LogServiceOptions {
  settings: LogSettings;
  clock?: Clock;
  onEvent?: (level: LogLine['level'], text: string, code: string) => void;
  /** How segment files are opened (default: node:fs); a test gives a slow disk here. */
  openSegmentFile?: OpenSegmentFile;
  /** Bytes of lines that may wait for a slow disk (default SEGMENT_QUEUE_BYTES). */
  segmentQueueBytes?: number;
}

/** Object key of a log segment: prefix/station/host/YYYYMMDD/SEQ.jsonl.gz. */
export function segmentKey(settings: LogSettings, seg: SegmentRef): string {
  const prefix = settings.store?.prefix ?? 'nqgw';
  return `${prefix}/${settings.station}/${settings.host}/${seg.date}/${seqName(seg.seq)}.jsonl.gz`;
}

/**
 * Structured local logs (winston, JSON lines, segments by size, age and CST day) and, when
 * [logs] names a store, the spool and the shipper. start(), log(), metrics(), stop() (which
 * closes the open segment and ships what it can within flush_timeout_s; the rest waits in the
 * spool for the next start).
 */
export class LogService {
  private readonly clock: Clock;
  private readonly writer: SegmentWriter;
  private readonly logger: winston.Logger;
  private readonly store: ObjectStore | null;
  private readonly shipper: Shipper | null;
  private readonly spool: Spool | null;
  private dropped = 0;
  /** The running retention round, and the CST day the last one was for. */
  private pruning: Promise<void> | null = null;
  private prunedFor = '';
  private readonly onEvent: NonNullable<LogServiceOptions['onEvent']>;

  constructor(readonly options: LogServiceOptions) {
    const s = options.settings;
    this.clock = options.clock ?? systemClock;
    mkdirSync(s.dir, { recursive: true });
    const onEvent = options.onEvent ?? (() => undefined);
    this.onEvent = onEvent;
    const spool = s.store
      ? new Spool({ dir: s.dir, maxBytes: s.spoolMaxBytes, keyFor: (seg) => segmentKey(s, seg) })
      : null;
    const lastLocal = listSegments(s.dir).at(-1)?.seq ?? 0;
    this.writer = new SegmentWriter({
      dir: s.dir,
      clock: this.clock,
      maxBytes: s.segmentMaxBytes,
      maxMs: s.segmentMaxMs,
      firstSeq: Math.max(lastLocal, spool?.highestSeq ?? 0) + 1,
      ...(options.openSegmentFile ? { openFile: options.openSegmentFile } : {}),
      ...(options.segmentQueueBytes ? { maxQueuedBytes: options.segmentQueueBytes } : {}),
      droppedLine: (n) =>
        JSON.stringify({
          t: new Date(this.clock.now()).toISOString(),
          level: 'warn',
          code: 'NQ817',
          text: `此处 ${n} 行日志未写入: 日志目录磁盘过慢`,
          station: s.station,
          host: s.host,
        }),
      onDropping: () =>
        this.say(
          'warn',
          'NQ817',
          `日志目录磁盘过慢, 开始丢弃日志行 (已计入 linesDropped); 检查 [logs] dir 所在磁盘`,
        ),
      onFailure: (err) =>
        this.say(
          'error',
          'NQ813',
          `日志写入本地失败, 行将丢弃直至恢复: ${err.message}; 检查 [logs] dir 所在磁盘 (空间, 权限)`,
        ),
      onRecovery: (lost) => this.say('info', 'NQ818', `日志本地写入已恢复, 期间丢失 ${lost} 行`),
      onClosed: () => {
        this.shipper?.kick();
        // The first close of a new CST day (the midnight roll): yesterday's end pushes one more
        // day past keep_days.
        if (cstDate(this.clock.now()) !== this.prunedFor) this.prune();
      },
    });
    this.spool = spool;
    this.logger = createStructuredLogger(this.writer, { station: s.station, host: s.host }, (err) =>
      this.lost(err),
    );
    this.store = s.store ? new ObjectStore(s.store) : null;
    this.shipper =
      spool && this.store
        ? new Shipper({
            spool,
            store: this.store,
            clock: this.clock,
            spoolMaxBytes: s.spoolMaxBytes,
            alarmPct: s.spoolAlarmPct,
            backoffInitialMs: s.backoffInitialMs,
            backoffMaxMs: s.backoffMaxMs,
            openSeq: () => this.writer.openSeq,
            linesDropped: () => this.dropped + this.writer.linesLost,
            onEvent,
            statusFile: shipStatusPath(s.dir),
          })
        : null;
  }

  start(): void {
    this.writer.start();
    this.shipper?.start();
    this.prune();
  }

  /**
   * One retention round (retention.ts) in the background, never two at once. Its failures are
   * warn lines: a full or read-only disk must not stop the gateway.
   */
  private prune(): void {
    const keepDays = this.options.settings.keepDays;
    if (keepDays === null || this.pruning) return;
    const now = this.clock.now();
    this.prunedFor = cstDate(now);
    this.pruning = pruneSegments({
      dir: this.options.settings.dir,
      keepDays,
      now,
      shipping: this.spool !== null,
      ...(this.spool ? { sealedThrough: this.spool.sealedThroughSeq } : {}),
      openSeq: this.writer.openSeq,
    })
      .then((r) => {
        for (const line of retentionLines(r, keepDays)) this.onEvent(line.level, line.text, line.code);
      })
      // pruneSegments does not reject; only saying the result can fail, and then stderr is left.
      .catch((err: Error) => {
        process.stderr.write(`[${RETENTION_FAILED_CODE}] 日志保留: ${err.message}\n`);
      })
      .finally(() => {
        this.pruning = null;
      });
  }

  /**
   * Never throws into the gateway: a line that cannot be written (local disk full or gone) is
   * counted in linesDropped and said on stderr, the one place left to say it.
   */
  log(line: LogLine): void {
    try {
      this.write(line);
    } catch (err) {
      this.lost(err as Error);
    }
  }

  /**
   * Say what the segment disk does: to the operator log (alerts, gateway.log, stderr) on the
   * next turn, since this may run inside a line's own trip through winston. The line
   * comes back here through the operator log and is queued like any other (or counted).
   */
  private say(level: LogLine['level'], code: string, text: string): void {
    // The gateway's onEvent says it on stderr too.
    if (!this.options.onEvent) process.stderr.write(`[${code}] ${text}\n`);
    setImmediate(() => {
      try {
        this.onEvent(level, text, code);
      } catch {
        // stderr has it.
      }
    });
  }

  private lost(err: Error): void {
    this.dropped++;
    if (this.dropped === 1 || this.dropped % 1000 === 0) {
      process.stderr.write(`[NQ813] 日志写入本地失败, 已丢弃 ${this.dropped} 行: ${err.message}\n`);
    }
  }

  private write(line: LogLine): void {
    this.logger.log({
      level: line.level,
      message: line.text,
      t: new Date(line.time).toISOString(),
      ...(line.code ? { code: line.code } : {}),
    });
  }

  metrics(): ShipMetrics {
    if (this.shipper) return this.shipper.metrics();
    return {
      shipping: false,
      spoolBytes: 0,
      spoolMaxBytes: this.options.settings.spoolMaxBytes,
      spoolSegments: 0,
      heldSegments: 0,
      oldestUnshippedAgeMs: null,
      objectsShipped: 0,
      replaysSkipped: 0,
      failures: 0,
      linesDropped: this.dropped + this.writer.linesLost,
      alarm: 'ok',
      lastError: null,
      lastFailureAt: null,
      lastShippedKey: null,
    };
  }

  get objectStore(): ObjectStore | null {
    return this.store;
  }

  /**
   * Close the open segment and ship within the flush timeout, counted from this call (closing
   * the logger and the writer come out of the same budget). True when nothing is left unshipped
   * (false too when the local disk did not take every line in time).
   */
  async stop(flushTimeoutMs = this.options.settings.flushTimeoutMs): Promise<boolean> {
    const deadline = this.clock.now() + flushTimeoutMs;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000);
      this.logger.on('finish', () => {
        clearTimeout(timer);
        setImmediate(resolve);
      });
      this.logger.end();
    });
    // Lines still waiting for a slow disk: written within the same budget, or left to finish
    // in the background (they stay in the local segment and ship at the next start).
    const written = await this.writer.stop(Math.max(0, deadline - this.clock.now()));
    await this.pruning;
    const drained = this.shipper ? await this.shipper.flush(Math.max(0, deadline - this.clock.now())) : true;
    this.store?.destroy();
    return written && drained;
  }
}
