import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { readReturnFile, ReturnFileWriter } from '../../../appliance/src/dbf/index.js';
import type { ReturnBody } from '../../../appliance/src/link/index.js';
import { OperatorLog, type OperatorLine } from '../../../appliance/src/gateway/index.js';
import { ReturnSink } from '../../../appliance/src/gateway/returns.js';
import { UnfitReturnLog } from '../../../appliance/src/gateway/return-unfit.js';
import { fillUp, mountTmpfs, unmountAll } from '../../helpers/tmpfs.js';
import { waitUntil } from '../../helpers/process.js';
import { returnRow } from '../../helpers/returns.js';

const DAY = '20260105';
const dirs: string[] = [];
const open: { sink: ReturnSink; writer: ReturnFileWriter }[] = [];
afterEach(async () => {
  for (const o of open.splice(0)) {
    o.sink.stop();
    await o.sink.idle();
    await o.writer.close();
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
afterAll(unmountAll);

const body = (seq: number, over: Partial<ReturnBody> = {}): ReturnBody =>
  returnRow(seq, { HBRQ: DAY, ...over });
const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

async function sinkOn(dir: string, holdLimit?: number) {
  const state = mkdtempSync(path.join(os.tmpdir(), 'nqgw-sink-'));
  dirs.push(state);
  const file = path.join(dir, 'NQHB.DBF');
  const { writer } = await ReturnFileWriter.open(file, { today: DAY, archiveOld: false });
  const log = new OperatorLog({ clock: { now: Date.now }, stdout: false });
  const lines: OperatorLine[] = [];
  log.subscribe((l) => void lines.push(l));
  const acks: number[] = [];
  const resyncs: string[] = [];
  const sink = new ReturnSink({
    store: writer,
    log,
    counters: { returns: 0, accepted: 0, rejected: 0 },
    onWritten: (seq) => void acks.push(seq),
    onResync: (reason) => void resyncs.push(reason),
    unfit: new UnfitReturnLog(state),
    now: Date.now,
    retry: { initialMs: 20, maxMs: 80 },
    ...(holdLimit ? { holdLimit } : {}),
  });
  const coded = (code: string): OperatorLine[] => lines.filter((l) => l.code === code);
  open.push({ sink, writer });
  return { file, writer, sink, lines, acks, resyncs, coded };
}

describe('ReturnSink when NQHB.DBF cannot be written (a real full tmpfs)', () => {
  it('holds rows up to its limit, acknowledges nothing unwritten, and resyncs once when rows had to be let go', async () => {
    const dir = mountTmpfs(64);
    const s = await sinkOn(dir, 30);
    s.sink.push(range(1, 10).map((n) => body(n)));
    await s.sink.idle();
    expect(s.acks).toEqual([10]);
    const filler = fillUp(dir);
    s.sink.push(range(11, 60).map((n) => body(n))); // 8 KB: past the last page
    await waitUntil(() => s.coded('NQ206').length === 1, 'the failure reported');
    s.sink.push(range(61, 100).map((n) => body(n))); // beyond the hold limit of 30
    await waitUntil(() => s.coded('NQ723').length === 1, 'the hold limit reported');
    await waitUntil(() => s.coded('NQ721').length >= 2, 'two retries failed while full');
    expect(Math.max(...s.acks)).toBeLessThanOrEqual(s.writer.lastSeq); // never ahead of the file
    expect(s.resyncs).toEqual([]); // no reconnect while the disk is full
    rmSync(filler);
    await waitUntil(() => s.coded('NQ722').length === 1, 'recovered');
    await s.sink.idle();
    // Held rows written; what was let go is the main station's to resend: exactly one resync.
    expect(s.writer.lastSeq).toBeGreaterThanOrEqual(30);
    expect(s.resyncs).toHaveLength(1);
    expect(s.coded('NQ206')).toHaveLength(1);
    // The resend after the resync: rows already held are skipped, the rest continue.
    s.sink.push(range(1, 100).map((n) => body(n)));
    await s.sink.idle();
    expect((await readReturnFile(s.file)).map((r) => r.HBXH)).toEqual(range(1, 100));
    expect(s.acks.at(-1)).toBe(100);
  });

  it('stops retrying when stopped', async () => {
    const dir = mountTmpfs(64);
    const s = await sinkOn(dir);
    const filler = fillUp(dir);
    s.sink.push(range(1, 60).map((n) => body(n)));
    await waitUntil(() => s.coded('NQ206').length === 1, 'the failure reported');
    s.sink.stop();
    await s.sink.idle();
    const tries = s.coded('NQ721').length;
    rmSync(filler);
    // Longer than several retry periods (20-80 ms): nothing more happens.
    await new Promise((r) => setTimeout(r, 300));
    expect(s.coded('NQ721').length).toBe(tries);
    expect(s.coded('NQ722')).toEqual([]);
  });
});

describe('ReturnSink accounting', () => {
  it('names a main-station rejection by its NQWT record number, with the text cleaned of control characters', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nqgw-sink-'));
    dirs.push(dir);
    const s = await sinkOn(dir);
    s.sink.push([
      body(1, { HBLB: '1', CWDM: 'E001', recNo: 7 }),
      body(2, { HBLB: '1', CWDM: 'E999', CWXX: '自定义\u001b[2J拒绝' }),
    ]);
    await s.sink.idle();
    expect(s.coded('NQ411').map((l) => l.text)).toEqual(['主站错单通知：委托第7笔流水号非法!']);
    const other = s.lines.find((l) => l.text.startsWith('主站错单通知：委托第2笔'));
    expect(other?.text).toBe('主站错单通知：委托第2笔 自定义 [2J拒绝');
    expect(s.sink.counters).toEqual({ returns: 2, accepted: 0, rejected: 2 });
  });

  it('writes a return of unknown kind (HBLB 9) with a blank HBLB: counted, neither accepted nor rejected, NQ540 with the raw value', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nqgw-sink-'));
    dirs.push(dir);
    const s = await sinkOn(dir);
    const odd = { ...body(2), HBLB: '9', JYDY: 729900 } as unknown as ReturnBody;
    s.sink.push([body(1), odd, body(3, { HBLB: '1', CWDM: 'E001' })]);
    await s.sink.idle();
    expect(s.acks).toEqual([3]);
    expect((await readReturnFile(s.file)).map((r) => [r.HBXH, r.HBLB, r.JYDY])).toEqual([
      [1, '0', '729900'],
      [2, '', ''],
      [3, '1', '729900'],
    ]);
    expect(s.sink.counters).toEqual({ returns: 3, accepted: 1, rejected: 1 });
    const loud = s.coded('NQ540').map((l) => l.text);
    expect(loud).toHaveLength(2);
    expect(loud[0]).toMatch(/回报序号 2 .*字段 JYDY .*主站原值 729900/);
    expect(loud[1]).toMatch(/回报序号 2 .*字段 HBLB not one of 0 1 2 3, 已写为空; 主站原值 "9"/);
  });
});
