import { describe, expect, it } from 'vitest';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { orderKey } from '../../../appliance/src/gateway/journal.js';
import type { OrderSource } from '../../../appliance/src/gateway/orders.js';
import { OperatorLog } from '../../../appliance/src/gateway/oplog.js';
import type { OrderRow } from '../../../appliance/src/dbf/index.js';
import type { OrderBody } from '../../../appliance/src/link/index.js';
import { makeOrder } from '../../../appliance/src/lab/index.js';
import { openPump } from './pump.js';

const NOW = Date.UTC(2026, 10, 23, 2, 0, 0); // 10:00 CST

/** NQWT.DBF in memory, with the reader's contract: records by number, read once, flags in place. */
class MemoryOrders implements OrderSource {
  rows: OrderRow[] = [];
  next = 1;
  add(...rows: OrderRow[]): void {
    this.rows.push(...rows);
  }
  async readNew() {
    const records = this.rows
      .slice(this.next - 1)
      .map((row, i) => ({ recNo: this.next + i, row: { ...row } }));
    this.next += records.length;
    return { records, deletedSkipped: 0, warnings: [] };
  }
  async rereadRecord(recNo: number) {
    return this.rows[recNo - 1] ?? null;
  }
  async setFlags(recNos: number[], flag: string) {
    for (const n of recNos) this.rows[n - 1]!.CLBZ = flag;
  }
  skipTo(recNo: number): void {
    this.next = recNo;
  }
  get nextRecNo() {
    return this.next;
  }
  flags(): string {
    return this.rows.map((r) => r.CLBZ).join('');
  }
}

class RecordingLink {
  up = true;
  sent: { LSH: string; possDup: boolean }[] = [];
  sendOrders(orders: { body: OrderBody; possDup: boolean }[]): boolean {
    if (!this.up) return false;
    this.sent.push(...orders.map((o) => ({ LSH: o.body.LSH, possDup: o.possDup })));
    return true;
  }
}

const pumpWith = (file: string, source: MemoryOrders): ReturnType<typeof openPump> =>
  openPump(file, source, new OperatorLog({ clock: { now: () => NOW }, stdout: false }), () => NOW);

const order = (n: number, over: Partial<OrderRow> = {}): OrderRow => makeOrder('729900', n, NOW, over);
const tempJournal = (): string => path.join(mkdtempSync(path.join(os.tmpdir(), 'nqgw-pump-')), 'day.jnl');

describe('OrderPump', () => {
  it('journals, sends and flags; after a restart resends unanswered orders as possible duplicates only', async () => {
    const file = tempJournal();
    const source = new MemoryOrders();
    source.add(order(1), order(2), order(3));
    const link = new RecordingLink();
    let { pump, journal } = await pumpWith(file, source);
    await pump.step(link);
    await pump.answered([orderKey('729900', '1')]);
    expect(link.sent).toEqual([
      { LSH: '1', possDup: false },
      { LSH: '2', possDup: false },
      { LSH: '3', possDup: false },
    ]);
    expect(source.flags()).toBe('111');
    await journal.close();

    // "kill -9": the CLBZ write of order 3 was lost, and a new order arrived meanwhile.
    source.rows[2]!.CLBZ = '0';
    source.add(order(4));
    source.next = 1;
    ({ pump, journal } = await pumpWith(file, source));
    const after = new RecordingLink();
    await pump.resendInFlight(after);
    await pump.step(after);
    expect(after.sent).toEqual([
      { LSH: '2', possDup: true },
      { LSH: '3', possDup: true },
      { LSH: '4', possDup: false },
    ]);
    expect(source.flags()).toBe('1111');
    await journal.close();
  });

  it('keeps orders journaled while the link is down and sends them, once, when it is back', async () => {
    const source = new MemoryOrders();
    source.add(order(1), order(2));
    const link = new RecordingLink();
    link.up = false;
    const { pump, journal } = await pumpWith(tempJournal(), source);
    await pump.step(link);
    expect(link.sent).toEqual([]);
    expect(source.flags()).toBe('00');
    expect(pump.waiting).toBe(2);
    link.up = true;
    await pump.resendInFlight(link);
    expect(link.sent.map((s) => s.LSH)).toEqual(['1', '2']);
    expect(link.sent.every((s) => !s.possDup)).toBe(true);
    expect(source.flags()).toBe('11');
    await journal.close();
  });

  it('reads a batch again when the journal cannot take it, so nothing is skipped', async () => {
    const source = new MemoryOrders();
    source.add(order(1), order(2));
    const link = new RecordingLink();
    const { pump, journal } = await pumpWith(tempJournal(), source);
    const realAppend = journal.append.bind(journal);
    journal.append = async () => {
      throw new Error('ENOSPC: no space left on device');
    };
    await expect(pump.step(link)).rejects.toThrow(/ENOSPC/);
    expect(link.sent).toEqual([]);
    journal.append = realAppend;
    await pump.step(link);
    expect(link.sent.map((s) => s.LSH)).toEqual(['1', '2']);
    await journal.close();
  });

  it('sends a repeated serial number again (the main station judges it) and matches answers first-sent first', async () => {
    const source = new MemoryOrders();
    source.add(order(7), order(7));
    const link = new RecordingLink();
    const { pump, journal } = await pumpWith(tempJournal(), source);
    await pump.step(link);
    expect(link.sent.map((s) => s.LSH)).toEqual(['7', '7']);
    expect(pump.awaitingAnswer).toBe(2);
    await pump.answered([orderKey('729900', '7')]);
    expect(pump.awaitingAnswer).toBe(1);
    await pump.answered([orderKey('729900', '7')]);
    expect(pump.awaitingAnswer).toBe(0);
    await journal.close();
  });
});
