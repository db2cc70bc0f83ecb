import fs, { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createDbfFile,
  encodeRows,
  NQWT_LAYOUT,
  OrderFileAppender,
  OrderFileReader,
  readOrderFile,
  recordOffset,
  type OrderRow,
} from '../../../appliance/src/dbf/index.js';
import { readJournal, type FileJournal } from '../../../appliance/src/gateway/journal.js';
import type { OrderPump } from '../../../appliance/src/gateway/orders.js';
import { OperatorLog } from '../../../appliance/src/gateway/oplog.js';
import type { OrderBody } from '../../../appliance/src/link/index.js';
import { makeOrder } from '../../../appliance/src/lab/index.js';
import { openPump } from './pump.js';

/**
 * Issue 11, "nothing skipped in silence": every record the gateway does not send is journaled,
 * flagged CLBZ '2' (where the file is sound), logged with its record number and reason (the
 * alert), counted under 非法委托, listed, remembered across a restart, and sent once the broker
 * corrects it in place. Real NQWT.DBF, real reader, real journal; only the link is a recorder.
 */

const START = Date.UTC(2026, 10, 23, 2, 0, 0); // 10:00 CST
const R = NQWT_LAYOUT.recordLength;
const HL = NQWT_LAYOUT.headerLength;
const at = (recNo: number): number => recordOffset(HL, R, recNo);
const order = (n: number, over: Partial<OrderRow> = {}): OrderRow => makeOrder('729900', n, START, over);

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

class RecordingLink {
  sent: { LSH: string; recNo: number; possDup: boolean }[] = [];
  sendOrders(orders: { body: OrderBody; possDup: boolean }[]): boolean {
    this.sent.push(...orders.map((o) => ({ LSH: o.body.LSH, recNo: o.body.recNo, possDup: o.possDup })));
    return true;
  }
}

interface Rig {
  dir: string;
  file: string;
  journalFile: string;
  clock: { t: number };
  lines: { code?: string; text: string }[];
  start(): Promise<{ pump: OrderPump; reader: OrderFileReader; journal: FileJournal }>;
}

async function rig(rows: OrderRow[]): Promise<Rig> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nqgw-unsent-'));
  dirs.push(dir);
  const file = path.join(dir, 'NQWT.DBF');
  await createDbfFile(file, NQWT_LAYOUT);
  const app = await OrderFileAppender.open(file);
  await app.append(rows);
  await app.close();
  const clock = { t: START };
  const lines: { code?: string; text: string }[] = [];
  const journalFile = path.join(dir, 'day.jnl');
  return {
    dir,
    file,
    journalFile,
    clock,
    lines,
    async start() {
      const reader = new OrderFileReader(file, { settleMs: 0, now: () => clock.t });
      await reader.open();
      const log = new OperatorLog({ clock: { now: () => clock.t }, stdout: false });
      log.subscribe((l) => void lines.push(l));
      const { pump, journal } = await openPump(journalFile, reader, log, () => clock.t);
      return { pump, reader, journal };
    },
  };
}

function patch(file: string, recNo: number, field: string, bytes: string): void {
  const fd = fs.openSync(file, 'r+');
  const b = Buffer.from(bytes, 'latin1');
  fs.writeSync(fd, b, 0, b.length, at(recNo) + (field === '' ? 0 : NQWT_LAYOUT.offsetOf(field)));
  fs.closeSync(fd);
}

function rewrite(file: string, recNo: number, row: OrderRow): void {
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, encodeRows(NQWT_LAYOUT, [row]), 0, R, at(recNo));
  fs.closeSync(fd);
}

const flags = async (file: string): Promise<string> => {
  const b = fs.readFileSync(file);
  let s = '';
  for (let n = 1; at(n) + R <= b.length; n++)
    s += String.fromCharCode(b[at(n) + NQWT_LAYOUT.offsetOf('CLBZ')]!);
  return s;
};

describe('records not sent are never silent (issue 11)', () => {
  it('refuses bad records with CLBZ 2, an alert line, the 非法委托 count and the list; a restart remembers', async () => {
    const r = await rig([order(1), order(2), order(3), order(4), order(5)]);
    patch(r.file, 2, 'WTJG', '           '); // blank price: was sent as price 0
    patch(r.file, 3, 'WTSL', '        1O0 '); // garbage quantity (NQ503: was skipped with CLBZ '0')
    patch(r.file, 4, '', 'X'); // a bad deletion flag (NQ505: was skipped with CLBZ '0')
    let { pump, reader, journal } = await r.start();
    const link = new RecordingLink();
    await pump.step(link);
    expect(link.sent.map((s) => s.recNo)).toEqual([1, 5]);
    expect(await flags(r.file)).toBe('12221');
    expect(pump.counters.refused).toBe(3);
    expect(pump.unsentView().count).toBe(3);
    const alerts = r.lines.filter((l) => l.code === 'NQ421').map((l) => l.text);
    expect(alerts).toHaveLength(3);
    expect(alerts[0]).toMatch(/委托第 2 笔.*NQ503.*WTJG.*blank/);
    expect(alerts[1]).toMatch(/委托第 3 笔.*NQ503.*WTSL/);
    expect(alerts[2]).toMatch(/委托第 4 笔.*NQ505/);
    await journal.close();
    await reader.close();

    const listed = await readJournal(r.journalFile);
    expect([...listed.unsent.entries()].map(([n, u]) => [n, u.code, u.unit, u.serial])).toEqual([
      [2, 'NQ503', '729900', '2'],
      [3, 'NQ503', '729900', '3'],
      [4, 'NQ505', '729900', '4'],
    ]);

    // Restart: the counters and the list come back from the journal; nothing is sent again.
    ({ pump, reader, journal } = await r.start());
    const again = new RecordingLink();
    await pump.step(again);
    expect(again.sent).toEqual([]);
    expect(pump.counters.refused).toBe(3);
    expect(pump.unsentView().count).toBe(3);
    await journal.close();
    await reader.close();
  });

  it('sends a record once the broker corrects it in place and sets CLBZ back to 0, wherever it is', async () => {
    const r = await rig([order(1), order(2), order(3)]);
    patch(r.file, 2, 'WTJG', '           ');
    patch(r.file, 3, 'JYDY', '111111'); // wrong unit: refused by the checks (NQ401)
    const { pump, reader, journal } = await r.start();
    const link = new RecordingLink();
    await pump.step(link);
    expect(await flags(r.file)).toBe('122');
    expect(pump.unsentView().count).toBe(2);

    // The broker corrects both in place (record 3 is the last one read: no false NQ502).
    rewrite(r.file, 2, order(2));
    rewrite(r.file, 3, order(3));
    const app = await OrderFileAppender.open(r.file);
    await app.append([order(4)]);
    await app.close();
    r.clock.t += 1000; // the watch looks once a second
    await pump.step(link);
    expect(link.sent.map((s) => s.recNo)).toEqual([1, 4, 2, 3]);
    expect(link.sent.every((s) => !s.possDup)).toBe(true);
    expect(await flags(r.file)).toBe('1111');
    expect(pump.unsentView().count).toBe(0);
    expect(r.lines.filter((l) => l.code === 'NQ422').map((l) => l.text)).toEqual([
      '委托第 2 笔已更正, 重新处理',
      '委托第 3 笔已更正, 重新处理',
    ]);
    expect(r.lines.some((l) => l.code === 'NQ502')).toBe(false);
    // Nothing more to send, however long it runs.
    r.clock.t += 5000;
    await pump.step(link);
    expect(link.sent).toHaveLength(4);
    await journal.close();
    await reader.close();
    expect((await readJournal(r.journalFile)).unsent.size).toBe(0);
  });

  it('a record left alone after a correction attempt that is still wrong stays refused, counted once', async () => {
    const r = await rig([order(1, { JYDY: '111111' })]);
    const { pump, reader, journal } = await r.start();
    const link = new RecordingLink();
    await pump.step(link);
    expect(pump.counters.refused).toBe(1);
    patch(r.file, 1, 'CLBZ', '0'); // CLBZ set back, unit still wrong
    r.clock.t += 1000;
    await pump.step(link);
    expect(link.sent).toEqual([]);
    expect(await flags(r.file)).toBe('2');
    expect(pump.counters.refused).toBe(1);
    await journal.close();
    await reader.close();
  });

  it('a restart that reads a refused bad record again (resumed before it) counts and alerts it once', async () => {
    const r = await rig([order(1, { CLBZ: 'X' }), order(2)]);
    patch(r.file, 2, 'WTSL', '            ');
    let { pump, reader, journal } = await r.start();
    await pump.step(new RecordingLink());
    expect(pump.counters.refused).toBe(1);
    await journal.close();
    await reader.close();
    // Record 1 still waits for its flag, so the restart resumes at record 1 and meets 2 again.
    ({ pump, reader, journal } = await r.start());
    await pump.step(new RecordingLink());
    expect(pump.counters.refused).toBe(1);
    expect(r.lines.filter((l) => l.code === 'NQ421')).toHaveLength(1);
    expect(await flags(r.file)).toBe('X2');
    await journal.close();
    await reader.close();
  });

  it('an invalid CLBZ fixed after the 30 s retry gave up (NQ404) is still sent', async () => {
    const r = await rig([order(1, { CLBZ: 'X' })]);
    const { pump, reader, journal } = await r.start();
    const link = new RecordingLink();
    await pump.step(link);
    expect(r.lines.some((l) => l.code === 'NQ403')).toBe(true);
    r.clock.t += 30_000;
    await pump.step(link);
    expect(r.lines.some((l) => l.code === 'NQ404')).toBe(true);
    expect(pump.unsentView()).toMatchObject({ count: 1 });
    expect(await flags(r.file)).toBe('X'); // the broker's value is left as it is
    patch(r.file, 1, 'CLBZ', '0'); // fixed late
    r.clock.t += 1000;
    await pump.step(link);
    expect(link.sent.map((s) => s.recNo)).toEqual([1]);
    expect(await flags(r.file)).toBe('1');
    expect(pump.unsentView().count).toBe(0);
    await journal.close();
    await reader.close();
    expect((await readOrderFile(r.file)).map((o) => o.CLBZ)).toEqual(['1']);
  });
});
