import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  daysBetween,
  LogService,
  planRetention,
  pruneSegments,
  retentionLines,
  type RetentionOptions,
} from '../../../appliance/src/logs/index.js';
import { tempDir, testSettings } from './fixtures.js';

/** 2026-11-22 10:00 CST (02:00 UTC): "today" of these tests. */
const NOW = Date.UTC(2026, 10, 22, 2, 0, 0);
const seqName = (seq: number): string => String(seq).padStart(12, '0');

/** Segments of several exchange days; seq n has n * 10 bytes so byte counts can be checked. */
function logDir(days: [date: string, seq: number][]): string {
  const dir = tempDir();
  mkdirSync(path.join(dir, 'segments'), { recursive: true });
  for (const [date, seq] of days) {
    writeFileSync(path.join(dir, 'segments', `${date}-${seqName(seq)}.jsonl`), 'x'.repeat(seq * 10));
  }
  return dir;
}

function left(dir: string): number[] {
  return readdirSync(path.join(dir, 'segments'))
    .map((n) => Number(n.slice(9, 21)))
    .sort((a, b) => a - b);
}

function shipState(dir: string, sealedThrough: number, waiting: number[] = []): void {
  writeFileSync(path.join(dir, 'ship-state.json'), JSON.stringify({ sealedThrough }));
  mkdirSync(path.join(dir, 'spool'), { recursive: true });
  for (const seq of waiting) {
    writeFileSync(path.join(dir, 'spool', `${seqName(seq)}.jsonl.gz`), 'gz');
    writeFileSync(path.join(dir, 'spool', `${seqName(seq)}.json`), '{}');
  }
}

const base = (dir: string, over: Partial<RetentionOptions> = {}): RetentionOptions => ({
  dir,
  keepDays: 1,
  now: NOW,
  shipping: false,
  openSeq: null,
  ...over,
});

// Days before 20261122: 0 today, 1 yesterday, 2, 21, 52, 325.
const DAYS: [string, number][] = [
  ['20250101', 1],
  ['20261001', 2],
  ['20261101', 3],
  ['20261120', 4],
  ['20261120', 5],
  ['20261121', 6],
  ['20261122', 7],
  ['20261122', 8],
];

describe('local segment retention', () => {
  it('counts calendar days between exchange dates, across months and years', () => {
    expect(daysBetween('20261121', '20261122')).toBe(1);
    expect(daysBetween('20261031', '20261101')).toBe(1);
    expect(daysBetween('20251231', '20260101')).toBe(1);
    expect(daysBetween('20240228', '20240301')).toBe(2);
  });

  it('shipping off: the age rule alone; today and yesterday stay with keep_days 1', async () => {
    const dir = logDir(DAYS);
    const r = await pruneSegments(base(dir));
    expect(left(dir)).toEqual([6, 7, 8]);
    expect(r).toEqual({ removed: 5, bytes: (1 + 2 + 3 + 4 + 5) * 10, kept: 0, failed: [] });
    const lines = retentionLines(r, 1);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 'info', code: 'NQ815' });
    expect(lines[0]!.text).toContain('删除 5 个');
    expect(lines[0]!.text).toContain('150 字节');
  });

  it('keeps exactly keep_days days before today; keep_days null keeps everything', async () => {
    const dir = logDir(DAYS);
    expect(planRetention(base(dir, { keepDays: 21 })).remove.map((s) => s.seq)).toEqual([1, 2]);
    expect(planRetention(base(dir, { keepDays: 20 })).remove.map((s) => s.seq)).toEqual([1, 2, 3]);
    expect(planRetention(base(dir, { keepDays: null }))).toEqual({ remove: [], kept: [] });
    const r = await pruneSegments(base(dir, { keepDays: 30 }));
    expect(left(dir)).toEqual([3, 4, 5, 6, 7, 8]);
    expect(r.removed).toBe(2);
  });

  it('a round that removes nothing says nothing', async () => {
    const dir = logDir([['20261122', 1]]);
    const r = await pruneSegments(base(dir));
    expect(r).toEqual({ removed: 0, bytes: 0, kept: 0, failed: [] });
    expect(retentionLines(r, 1)).toEqual([]);
  });

  it('shipping on: only sealed segments gone from the spool; held, unsealed and spooled ones stay', async () => {
    const dir = logDir(DAYS);
    // 1 and 2 shipped; 3 sealed, still in the spool; 4 and 5 above the mark (held: spool full).
    shipState(dir, 3, [3]);
    const r = await pruneSegments(base(dir, { shipping: true }));
    expect(left(dir)).toEqual([3, 4, 5, 6, 7, 8]);
    expect(r).toMatchObject({ removed: 2, bytes: 30, kept: 3, failed: [] });
    expect(retentionLines(r, 1)[0]!.text).toContain('3 个未上传的旧段保留');
  });

  it('shipping on: a lone seal (.json) or a .tmp in the spool also keeps its segment', async () => {
    const dir = logDir(DAYS);
    shipState(dir, 5);
    writeFileSync(path.join(dir, 'spool', `${seqName(1)}.json`), '{}');
    writeFileSync(path.join(dir, 'spool', `${seqName(2)}.jsonl.gz.tmp`), '');
    mkdirSync(path.join(dir, 'spool', 'corrupt'));
    await pruneSegments(base(dir, { shipping: true }));
    expect(left(dir)).toEqual([1, 2, 6, 7, 8]);
  });

  it("shipping on: the running spool's lower mark wins over ship-state.json; no state keeps all", async () => {
    const dir = logDir(DAYS);
    expect(planRetention(base(dir, { shipping: true })).remove).toEqual([]);
    writeFileSync(path.join(dir, 'ship-state.json'), 'not json');
    expect(planRetention(base(dir, { shipping: true })).remove).toEqual([]);
    shipState(dir, 5);
    const plan = planRetention(base(dir, { shipping: true, sealedThrough: 2 }));
    expect(plan.remove.map((s) => s.seq)).toEqual([1, 2]);
    expect(plan.kept.map((s) => s.seq)).toEqual([3, 4, 5]);
  });

  it('never the open segment (or one still syncing), nor the newest on disk (the sequence counter)', async () => {
    // The appliance was off for weeks: every segment is old.
    const dir = logDir([
      ['20261001', 1],
      ['20261002', 2],
      ['20261003', 3],
      ['20261004', 4],
    ]);
    expect(planRetention(base(dir, { openSeq: 3 })).remove.map((s) => s.seq)).toEqual([1, 2]);
    await pruneSegments(base(dir));
    expect(left(dir)).toEqual([4]);
  });

  it('a segment that cannot be deleted is a warn line, the others still go, nothing throws', async () => {
    const dir = logDir(DAYS);
    // A directory under a segment's name: unlink fails (EISDIR) even for root.
    const stuck = path.join(dir, 'segments', `20261001-${seqName(0)}.jsonl`);
    mkdirSync(path.join(stuck, 'inner'), { recursive: true });
    const r = await pruneSegments(base(dir, { keepDays: 30 }));
    expect(r.removed).toBe(2);
    expect(r.failed).toHaveLength(1);
    expect(r.failed[0]!.file).toBe(stuck);
    expect(existsSync(stuck)).toBe(true);
    const lines = retentionLines(r, 30);
    expect(lines.map((l) => [l.level, l.code])).toEqual([
      ['info', 'NQ815'],
      ['warn', 'NQ816'],
    ]);
  });

  it('an unreadable log directory is a failure reported, not a crash', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'segments'), 'a file where the directory should be');
    const r = await pruneSegments(base(dir));
    expect(r.failed).toHaveLength(1);
    expect(retentionLines(r, 1)[0]).toMatchObject({ level: 'warn', code: 'NQ816' });
  });
});

describe('retention in the log service', () => {
  const services: LogService[] = [];
  afterEach(async () => {
    await Promise.all(services.splice(0).map((s) => s.stop(0)));
  });

  it('runs at start and again after the CST-midnight roll, saying NQ815 each time', async () => {
    const dir = logDir([
      ['20261001', 1],
      ['20261121', 2],
    ]);
    let now = NOW;
    const events: [string, string, string][] = [];
    const service = new LogService({
      settings: testSettings(dir, null, { keepDays: 1 }),
      clock: { now: () => now },
      onEvent: (level, text, code) => events.push([level, code, text]),
    });
    services.push(service);
    service.start();
    await vi.waitFor(() => expect(events).toHaveLength(1));
    expect(events[0]!.slice(0, 2)).toEqual(['info', 'NQ815']);
    expect(left(dir)).toEqual([2]);

    service.log({ time: now, level: 'info', text: 'before midnight' });
    await vi.waitFor(() => expect(left(dir)).toEqual([2, 3]));
    now = Date.UTC(2026, 10, 22, 16, 0, 1); // 2026-11-23 00:00:01 CST: yesterday's 21st is now 2 days old
    service.log({ time: now, level: 'info', text: 'after midnight' });
    await vi.waitFor(() => expect(events).toHaveLength(2));
    expect(events[1]!.slice(0, 2)).toEqual(['info', 'NQ815']);
    expect(events[1]![2]).toContain('删除 1 个');
    expect(left(dir)).toEqual([3, 4]);
  });

  it('keep_days forever: nothing is touched', async () => {
    const dir = logDir([
      ['20200101', 1],
      ['20261121', 2],
    ]);
    const events: string[] = [];
    const service = new LogService({
      settings: testSettings(dir, null, { keepDays: null }),
      clock: { now: () => NOW },
      onEvent: (_l, _t, code) => events.push(code),
    });
    services.push(service);
    service.start();
    await new Promise((r) => setTimeout(r, 100));
    expect(left(dir)).toEqual([1, 2]);
    expect(events).toEqual([]);
  });
});
