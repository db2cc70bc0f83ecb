import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import { cstDate } from '../shared/index.js';
import { listSegments, type SegmentRef } from './segments.js';

/** Info line of a retention round that removed something; warn line when a file would not go. */
export const RETENTION_CODE = 'NQ815';
export const RETENTION_FAILED_CODE = 'NQ816';

export interface RetentionOptions {
  /** [logs] dir: segments/, spool/ and ship-state.json live here. */
  dir: string;
  /** keep_days; null keeps everything. */
  keepDays: number | null;
  now: number;
  /** Shipping on: only segments that are sealed and gone from the spool (shipped) may go. */
  shipping: boolean;
  /**
   * The running spool's own sealed mark. It can be below ship-state.json (a bad seal set aside
   * at start is sealed again), and a segment above it may be read by sealing at any moment.
   */
  sealedThrough?: number;
  /** Lowest sequence still open or being synced (SegmentWriter.openSeq), or null. */
  openSeq: number | null;
}

export interface RetentionPlan {
  /** Old enough and safely elsewhere (or shipping is off): to delete. */
  remove: SegmentRef[];
  /** Old enough but not shipped yet, open, or the newest on disk: kept this round. */
  kept: SegmentRef[];
}

export interface RetentionResult {
  removed: number;
  bytes: number;
  kept: number;
  failed: { file: string; error: string }[];
}

/** Whole days from YYYYMMDD `from` to YYYYMMDD `to` (calendar days; positive when `to` is later). */
export function daysBetween(from: string, to: string): number {
  const utc = (d: string): number =>
    Date.UTC(Number(d.slice(0, 4)), Number(d.slice(4, 6)) - 1, Number(d.slice(6, 8)));
  return Math.round((utc(to) - utc(from)) / 86_400_000);
}

/**
 * ship-state.json's sealed mark. Missing or unreadable counts as 0, i.e. "nothing is known to
 * be shipped": retention then keeps everything rather than guess.
 */
export function readSealedThrough(dir: string): number {
  const file = path.join(dir, 'ship-state.json');
  if (!existsSync(file)) return 0;
  try {
    const n = (JSON.parse(readFileSync(file, 'utf8')) as { sealedThrough?: unknown }).sealedThrough;
    return typeof n === 'number' && Number.isInteger(n) ? n : 0;
  } catch {
    return 0;
  }
}

/**
 * Sequences with anything in spool/ (the .gz, its .json seal, or a .tmp of either). The shipper
 * removes both only after the store has the object, so "sealed and nothing in the spool" is the
 * one thing on disk that means "shipped". A lone .json (shipped, removal interrupted) still keeps
 * its segment until the next start clears it: cheap caution.
 */
export function waitingInSpool(dir: string): Set<number> {
  const spool = path.join(dir, 'spool');
  const out = new Set<number>();
  if (!existsSync(spool)) return out;
  for (const name of readdirSync(spool)) {
    const m = /^(\d{12})\./.exec(name);
    if (m) out.add(Number(m[1]));
  }
  return out;
}

/**
 * Which local segments may go. A segment goes when its exchange date (the YYYYMMDD of its name)
 * is more than keepDays before today (CST) and it is safely elsewhere. Never removed: the open
 * segment (or one still being synced), the newest segment on disk (it carries the sequence
 * counter across restarts, so SEQ is never reused), and with shipping on anything above the
 * sealed mark (held by the full policy, or not sealed yet) or still in the spool.
 */
export function planRetention(o: RetentionOptions): RetentionPlan {
  const plan: RetentionPlan = { remove: [], kept: [] };
  if (o.keepDays === null) return plan;
  const today = cstDate(o.now);
  // ship-state.json before the spool listing: a seal writes its spool files before it moves the
  // mark, so every sequence at or below the mark read here is either in the listing or shipped.
  const sealed = o.shipping ? Math.min(readSealedThrough(o.dir), o.sealedThrough ?? Infinity) : Infinity;
  const waiting = o.shipping ? waitingInSpool(o.dir) : new Set<number>();
  const segments = listSegments(o.dir);
  const newest = segments.at(-1)?.seq;
  for (const seg of segments) {
    if (daysBetween(seg.date, today) <= o.keepDays) continue;
    const safe =
      seg.seq !== newest &&
      (o.openSeq === null || seg.seq < o.openSeq) &&
      seg.seq <= sealed &&
      !waiting.has(seg.seq);
    (safe ? plan.remove : plan.kept).push(seg);
  }
  return plan;
}

/**
 * One retention round: plan, then delete one file at a time off the event loop (the first round
 * on an appliance that ran for years may have many files). A file that will not go is counted in
 * `failed` and tried again next round; nothing here throws.
 */
export async function pruneSegments(o: RetentionOptions): Promise<RetentionResult> {
  const result: RetentionResult = { removed: 0, bytes: 0, kept: 0, failed: [] };
  let plan: RetentionPlan;
  try {
    plan = planRetention(o);
  } catch (err) {
    result.failed.push({ file: o.dir, error: (err as Error).message });
    return result;
  }
  result.kept = plan.kept.length;
  for (const seg of plan.remove) {
    try {
      const { size } = await stat(seg.file);
      await unlink(seg.file);
      result.removed++;
      result.bytes += size;
    } catch (err) {
      // Gone already (an operator cleaned up): nothing to report.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      result.failed.push({ file: seg.file, error: (err as Error).message });
    }
  }
  return result;
}

/** The operator-log lines of a round: one info line when files went, one warn line when some would not. */
export function retentionLines(
  r: RetentionResult,
  keepDays: number,
): { level: 'info' | 'warn'; text: string; code: string }[] {
  const out: { level: 'info' | 'warn'; text: string; code: string }[] = [];
  if (r.removed > 0) {
    const kept = r.kept > 0 ? `; ${r.kept} 个未上传的旧段保留` : '';
    out.push({
      level: 'info',
      code: RETENTION_CODE,
      text: `日志保留: 删除 ${r.removed} 个超过 ${keepDays} 天的本地日志段, 共 ${r.bytes} 字节${kept}`,
    });
  }
  const first = r.failed[0];
  if (first) {
    out.push({
      level: 'warn',
      code: RETENTION_FAILED_CODE,
      text: `日志保留: ${r.failed.length} 个本地日志段删除失败, 下次再试 (${first.file}: ${first.error})`,
    });
  }
  return out;
}
