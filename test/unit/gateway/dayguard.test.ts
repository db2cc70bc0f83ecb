import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createDbfFile,
  NQWT_LAYOUT,
  OrderFileAppender,
  OrderFileReader,
  readOrderFile,
} from '../../../appliance/src/dbf/index.js';
import { DayGuard } from '../../../appliance/src/gateway/dayguard.js';
import { OperatorLog } from '../../../appliance/src/gateway/oplog.js';
import { makeOrder } from '../../../appliance/src/lab/index.js';
import type { OrderBody, ReturnBody } from '../../../appliance/src/link/index.js';

// 2026-11-23 23:59:59 CST (a Monday); the next trading day's date is 20261124.
const BEFORE_MIDNIGHT = Date.UTC(2026, 10, 23, 15, 59, 59);
const DAY = '20261123';
const NEXT = '20261124';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function rig(): { guard: DayGuard; log: OperatorLog; clock: { t: number }; ended: string[] } {
  const clock = { t: BEFORE_MIDNIGHT };
  const log = new OperatorLog({ clock: { now: () => clock.t }, stdout: false });
  const ended: string[] = [];
  const guard = new DayGuard(DAY, { now: () => clock.t }, log, (d) => ended.push(d));
  return { guard, log, clock, ended };
}

const codes = (log: OperatorLog): string[] => log.recent().map((l) => l.code ?? '');

describe('DayGuard: one gateway process, one CST trading day', () => {
  it('ends the day once when the clock passes CST midnight, with NQ220 naming both days', () => {
    const { guard, log, clock, ended } = rig();
    expect(guard.check()).toBe(true);
    clock.t += 1000; // 00:00:00 CST the next day
    expect(guard.check()).toBe(false);
    expect(guard.check()).toBe(false);
    expect(ended).toEqual([NEXT]);
    expect(guard.endedBy).toBe(NEXT);
    const lines = log.recent().filter((l) => l.code === 'NQ220');
    expect(lines).toHaveLength(1);
    expect(lines[0]!.level).toBe('error');
    expect(lines[0]!.text).toContain(`交易日已由 ${DAY} 变为 ${NEXT}`);
    expect(lines[0]!.text).toContain('systemctl restart nqgw');
  });

  it('notices midnight by itself when nothing asks (link down, nothing to send)', async () => {
    vi.useFakeTimers();
    try {
      const { guard, clock, ended } = rig();
      guard.start();
      await vi.advanceTimersByTimeAsync(1000);
      expect(ended).toEqual([]);
      clock.t += 1000;
      await vi.advanceTimersByTimeAsync(250);
      expect(ended).toEqual([NEXT]);
      guard.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it('refuses a send at the last moment once the day changed (the order stays journaled, unsent)', () => {
    const { guard, clock } = rig();
    const sent: number[] = [];
    const link = {
      sendOrders: (o: { body: OrderBody; possDup: boolean }[]): boolean => {
        sent.push(o.length);
        return true;
      },
    };
    const sink = guard.sink(link);
    const order = { body: { recNo: 1 } as unknown as OrderBody, possDup: false };
    expect(sink.sendOrders([order])).toBe(true);
    clock.t += 1000;
    expect(sink.sendOrders([order])).toBe(false);
    expect(sent).toEqual([1]);
  });

  it('writes no return dated after the trading day and ends the day on one; the earlier rows pass', () => {
    const { guard, log, ended } = rig();
    const row = (HBXH: number, HBRQ: string): ReturnBody => ({ HBXH, HBRQ }) as unknown as ReturnBody;
    expect(guard.returnsOfDay([row(1, DAY), row(2, DAY)]).map((r) => r.HBXH)).toEqual([1, 2]);
    // A row the return sink must judge (no date) is not this guard's business.
    expect(
      guard.returnsOfDay([row(3, ''), row(3, '99999999'), row(3, '20261131')]).map((r) => r.HBRQ),
    ).toEqual(['', '99999999', '20261131']);
    expect(guard.returnsOfDay([row(4, DAY), row(5, NEXT), row(6, DAY)]).map((r) => r.HBXH)).toEqual([4]);
    expect(ended).toEqual([NEXT]);
    expect(codes(log)).toEqual(['NQ223', 'NQ220']);
  });

  it("ends the day when the main station's logon answer carries a later trading date", () => {
    const { guard, log, ended } = rig();
    guard.onLogon(DAY);
    expect(ended).toEqual([]);
    guard.onLogon('20261122');
    expect(ended).toEqual([]);
    expect(codes(log)).toEqual(['NQ222']);
    guard.onLogon(NEXT);
    expect(ended).toEqual([NEXT]);
    expect(codes(log)).toEqual(['NQ222', 'NQ222', 'NQ220']);
  });

  it('leaves an order dated after the trading day waiting in NQWT.DBF, and everything behind it', async () => {
    const { guard, log } = rig();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nqgw-dayguard-'));
    dirs.push(dir);
    const file = path.join(dir, 'NQWT.DBF');
    await createDbfFile(file, NQWT_LAYOUT);
    const appender = await OrderFileAppender.open(file);
    const tomorrow = BEFORE_MIDNIGHT + 2000;
    await appender.append([
      makeOrder('729900', 1, BEFORE_MIDNIGHT),
      makeOrder('729900', 2, BEFORE_MIDNIGHT),
      makeOrder('729900', 3, tomorrow), // the counter's clock is a few seconds ahead
      makeOrder('729900', 4, BEFORE_MIDNIGHT),
    ]);
    const reader = new OrderFileReader(file);
    await reader.open();
    try {
      const source = guard.source(reader);
      const first = await source.readNew();
      expect(first.records.map((r) => r.recNo)).toEqual([1, 2]);
      expect(source.nextRecNo).toBe(3);
      // Polled again: still waiting, said once.
      const again = await source.readNew();
      expect(again.records).toEqual([]);
      expect(codes(log)).toEqual(['NQ221']);
      expect(log.recent()[0]!.text).toContain(`委托第 3 笔日期 '${NEXT}'`);
      expect(await reader.unread()).toBe(2);
      // The guard never writes the flag: the new day's gateway sends record 3.
      expect((await readOrderFile(file)).map((o) => o.CLBZ)).toEqual(['0', '0', '0', '0']);
    } finally {
      await reader.close();
      await appender.close();
    }
  });
});
