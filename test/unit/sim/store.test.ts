import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SimStateError, SimStore, STATE_FILE, type TakenOrder } from '../../../appliance/src/sim/index.js';

const D = '20261123';
const taken = (LSH: string, fields: Partial<TakenOrder> = {}): TakenOrder => ({
  JYDY: '729900',
  LSH,
  YWLB: '0B',
  ZQDM: '430001',
  GDDM: 'A1',
  WTJG: 1,
  WTSL: 100,
  possDup: false,
  recNo: 1,
  accepted: true,
  ...fields,
});
const ret = (HBXH: number, LSH: string, HBLB: '0' | '1' | '2' | '3', CJSL = 0) => ({
  HBXH,
  JYDY: '729900',
  HBRQ: D,
  HBSJ: '093000',
  LSH,
  HBLB,
  ZQDM: '430001',
  GDDM: 'A1',
  YWLB: '0B',
  CJBH: '',
  CJJG: 0,
  CJSL,
  CWDM: '',
  CWXX: '',
});

describe('SimStore', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'simstore-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('replays orders, returns, fills, cancels, suspensions, soft days, market and acks', async () => {
    const a = await SimStore.open(dir);
    const texts = a.recordOrder('W1', D, taken('1'), [ret(1, '1', '0'), ret(2, '1', '2', 40)]);
    expect(JSON.parse(texts[1]!)).toEqual(ret(2, '1', '2', 40));
    a.recordOrder('W1', D, taken('2'), []);
    a.record({ k: 'o', st: 'W1', d: D, o: taken('9', { YWLB: 'CX' }), r: [ret(3, '2', '3', 100)] });
    a.recordOrder('W1', D, taken('3', { accepted: false }), [ret(4, '3', '1')]);
    a.record({ k: 'dup', st: 'W1', d: D });
    a.record({ k: 'ack', st: 'W1', d: D, seq: 3 });
    a.record({ k: 'susp', code: '430002', on: true });
    a.record({ k: 'susp', code: '430003', on: true });
    a.record({ k: 'susp', code: '430003', on: false });
    a.record({ k: 'soft', st: 'W1', d: D });
    a.record({ k: 'mkt', state: 'CLOSED' });
    await a.close();

    const b = await SimStore.open(dir);
    const day = b.day('W1', D);
    expect(day.taken.map((o) => o.LSH)).toEqual(['1', '2', '9', '3']);
    expect(day.returns.map((r) => (JSON.parse(r) as { HBXH: number }).HBXH)).toEqual([1, 2, 3, 4]);
    expect(day.returns[1]).toBe(texts[1]);
    expect(b.findOrder('W1', D, '729900', '1')?.filled).toBe(40);
    expect(b.findOrder('W1', D, '729900', '2')?.cancelled).toBe(true);
    expect(day.rejected).toBe(1);
    expect(day.duplicatesDropped).toBe(1);
    expect(day.lastAcked).toBe(3);
    expect(b.fillCount(D)).toBe(1);
    expect(b.isSuspended('430002')).toBe(true);
    expect(b.isSuspended('430003')).toBe(false);
    expect(b.isSoftEnabled('W1', D)).toBe(true);
    expect(b.isSoftEnabled('W1', '20261124')).toBe(false);
    expect(b.market).toBe('CLOSED');
    await b.close();
  });

  it('ignores and cuts off a torn last line, then appends cleanly', async () => {
    const a = await SimStore.open(dir);
    a.recordOrder('W1', D, taken('1'), []);
    await a.close();
    await appendFile(join(dir, STATE_FILE), '{"k":"take","st":"W1","d":"2026');
    const b = await SimStore.open(dir);
    expect(b.day('W1', D).taken).toHaveLength(1);
    b.recordOrder('W1', D, taken('2'), []);
    await b.close();
    const lines = (await readFile(join(dir, STATE_FILE), 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    const c = await SimStore.open(dir);
    expect(c.day('W1', D).taken.map((o) => o.LSH)).toEqual(['1', '2']);
    await c.close();
  });

  it('refuses returns out of sequence', async () => {
    const line = JSON.stringify({ k: 'o', st: 'W1', d: D, o: taken('1'), r: [ret(2, '1', '0')] });
    await writeFile(join(dir, STATE_FILE), `${line}\n`);
    await expect(SimStore.open(dir)).rejects.toThrow(/out of sequence/);
  });

  it('refuses a damaged line in the middle', async () => {
    await writeFile(join(dir, STATE_FILE), '{"k":"mkt","state":"OPEN"}\n{oops\n{"k":"mkt","state":"OPEN"}\n');
    await expect(SimStore.open(dir)).rejects.toBeInstanceOf(SimStateError);
  });

  it('groups concurrent commits into few writes', async () => {
    const a = await SimStore.open(dir);
    const commits: Promise<void>[] = [];
    for (let i = 0; i < 100; i++) {
      a.recordOrder('W1', D, taken(String(i)), []);
      commits.push(a.commit());
    }
    await Promise.all(commits);
    // the first commit starts a write; the 99 others join the next one
    expect(new Set(commits).size).toBeLessThanOrEqual(2);
    await a.close();
    const b = await SimStore.open(dir);
    expect(b.day('W1', D).taken).toHaveLength(100);
    await b.close();
  });
});
