import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createDbfFile,
  OrderFileAppender,
  OrderFileReader,
  readOrderFile,
} from '../../../appliance/src/dbf/index.js';
import type { Journal } from '../../../appliance/src/gateway/journal.js';
import { OperatorLog } from '../../../appliance/src/gateway/oplog.js';
import type { OrderBody } from '../../../appliance/src/link/index.js';
import { makeOrder } from '../../../appliance/src/lab/index.js';
import { NQWT_LAYOUT } from '../../../appliance/src/dbf/index.js';
import { tempDir } from '../../helpers/tempdir.js';
import { FaultyFs, type Fault } from './journal-faults.js';
import { openPump } from './pump.js';

/**
 * The journal's faults seen from the order pump, over a real NQWT.DBF and a real journal file:
 * a batch the journal did not take is not sent and not flagged, goes out once when the journal
 * takes it, and a restart (kill -9) finds each order once.
 */
const NOW = Date.UTC(2026, 10, 23, 2, 0, 0); // 10:00 CST

class RecordingLink {
  sent: { LSH: string; possDup: boolean }[] = [];
  sendOrders(orders: { body: OrderBody; possDup: boolean }[]): boolean {
    this.sent.push(...orders.map((o) => ({ LSH: o.body.LSH, possDup: o.possDup })));
    return true;
  }
}

const open: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) await c.close().catch(() => undefined);
});

async function start(nqwt: string, journalFile: string, fs: FaultyFs) {
  const reader = new OrderFileReader(nqwt, { settleMs: 0, now: () => NOW });
  await reader.open();
  open.push(reader);
  const log = new OperatorLog({ clock: { now: () => NOW }, stdout: false });
  const { pump, journal } = await openPump(journalFile, reader, log, () => NOW, { fs });
  open.push(journal as Journal);
  return { pump, journal };
}

const flagsOf = async (file: string): Promise<string> =>
  (await readOrderFile(file)).map((r) => r.CLBZ).join('');

describe('the order pump over a journal that fails', () => {
  it.each<{ name: string; fault: Fault; code: string }>([
    { name: 'EIO on fsync', fault: { op: 'datasync', errno: 'EIO' }, code: 'NQ780' },
    { name: 'ENOSPC on write', fault: { op: 'write', errno: 'ENOSPC' }, code: 'NQ781' },
    { name: 'a write that takes nothing', fault: { op: 'write', short: 0 }, code: 'NQ782' },
  ])(
    '$name: nothing sent or flagged, then each order once; a restart finds each once',
    async ({ fault, code }) => {
      const dir = tempDir('nqgw-jpump-');
      const nqwt = path.join(dir, 'NQWT.DBF');
      const journalFile = path.join(dir, 'day.jnl');
      await createDbfFile(nqwt, NQWT_LAYOUT);
      const app = await OrderFileAppender.open(nqwt);
      await app.append([1, 2, 3].map((n) => makeOrder('729900', n, NOW)));
      await app.close();
      const fs = new FaultyFs();
      const link = new RecordingLink();
      const first = await start(nqwt, journalFile, fs);

      fs.arm(fault);
      await expect(first.pump.step(link)).rejects.toMatchObject({
        code,
        file: journalFile,
        record: 1,
        records: 4,
      });
      expect(link.sent).toEqual([]);
      expect(await flagsOf(nqwt)).toBe('000');

      await first.pump.step(link);
      expect(link.sent).toEqual(['1', '2', '3'].map((LSH) => ({ LSH, possDup: false })));
      expect(await flagsOf(nqwt)).toBe('111');
      expect(first.pump.counters.sent).toBe(3);

      // kill -9: a second pump over the same files, the first never closed.
      const second = await start(nqwt, journalFile, fs);
      expect(second.pump.counters.sent).toBe(3);
      expect(second.pump.awaitingAnswer).toBe(3);
      link.sent = [];
      expect(await second.pump.step(link)).toBe(0);
      await second.pump.resendInFlight(link);
      expect(link.sent).toEqual(['1', '2', '3'].map((LSH) => ({ LSH, possDup: true })));
    },
  );
});
