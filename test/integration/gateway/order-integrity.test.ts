import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  encodeRows,
  NQWT_LAYOUT,
  OrderFileAppender,
  readOrderFile,
  recordOffset,
  type OrderRow,
} from '../../../appliance/src/dbf/index.js';
import { makeOrder } from '../../../appliance/src/lab/index.js';
import { makeLab, startGateway, startLinked } from '../../helpers/lab.js';
import { setCount, writeBytes } from '../../helpers/dbf-bytes.js';
import { runNqgw, waitUntil, type NqgwProcess } from '../../helpers/process.js';

const running: NqgwProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
});

const R = NQWT_LAYOUT.recordLength;
const HL = NQWT_LAYOUT.headerLength;
const at = (recNo: number): number => recordOffset(HL, R, recNo);

async function jsonOf<T>(args: string[]): Promise<T> {
  return JSON.parse((await runNqgw(args)).output) as T;
}

interface UnsentListing {
  count: number;
  records: { recNo: number; unit: string; serial: string; code: string; reason: string; clbz: string }[];
}

/** Issue 11 §1 against the real gateway, simulator and files. */
describe('order-file integrity', () => {
  it('stops and alarms on a torn record with records appended after it at EOF; sends nothing of it', async () => {
    const lab = await makeLab();
    const { admin, gateway } = await startLinked(lab, running);
    const now = Date.now();
    const app = await OrderFileAppender.open(lab.orders);
    await app.append([makeOrder('729900', 1, now), makeOrder('729900', 2, now), makeOrder('729900', 3, now)]);
    await app.close();
    await waitUntil(async () => (await admin.orders(lab.station)).length === 3, 'orders 1-3 taken');
    await waitUntil(
      async () => (await readOrderFile(lab.orders)).every((o) => o.CLBZ === '1'),
      'orders 1-3 flagged sent',
    );

    // The lab case: record 4 dies 60 bytes in; the program appends 5 and 6 at the end of file.
    const size = fs.statSync(lab.orders).size;
    writeBytes(lab.orders, encodeRows(NQWT_LAYOUT, [makeOrder('729900', 4, now)]).subarray(0, 60), size - 1);
    const after: OrderRow[] = [makeOrder('729900', 5, now), makeOrder('729900', 6, now)];
    writeBytes(lab.orders, encodeRows(NQWT_LAYOUT, after, 0x1a), size - 1 + 60);
    setCount(lab.orders, 5);
    const torn = fs.readFileSync(lab.orders);

    await gateway.waitFor(/\[?NQ520\]?.*委托库记录位置错乱|委托库记录位置错乱/, 15_000);
    const alerts = await jsonOf<{ active: { code: string; words: string }[] }>([
      'alerts',
      '--config',
      lab.twIni,
      '--json',
    ]);
    expect(alerts.active.map((a) => a.code)).toContain('ORDER_FILE_DAMAGED');
    expect((await admin.orders(lab.station)).map((o) => o.LSH)).toEqual(['1', '2', '3']);
    expect(fs.readFileSync(lab.orders)).toEqual(torn); // nothing written into the broker's file

    // The broker repairs it (torn part cut, 4-6 written whole): the gateway goes on by itself.
    fs.truncateSync(lab.orders, at(4));
    const whole = [makeOrder('729900', 4, now), ...after];
    writeBytes(lab.orders, encodeRows(NQWT_LAYOUT, whole, 0x1a), at(4));
    setCount(lab.orders, 6);
    await waitUntil(async () => (await admin.orders(lab.station)).length === 6, 'orders 4-6 taken', 15_000);
    const taken = await admin.orders(lab.station);
    expect(taken.map((o) => o.LSH)).toEqual(['1', '2', '3', '4', '5', '6']);
  });

  it('refuses a bad record visibly, lists it with or without the gateway, sends it once corrected; two-step writers wait', async () => {
    const lab = await makeLab();
    const linked = await startLinked(lab, running);
    const admin = linked.admin;
    let gateway = linked.gateway;
    const now = Date.now();
    const app = await OrderFileAppender.open(lab.orders);
    await app.append([makeOrder('729900', 1, now)]);
    const blankPrice = encodeRows(NQWT_LAYOUT, [makeOrder('729900', 2, now)]);
    blankPrice.fill(0x20, NQWT_LAYOUT.offsetOf('WTJG'), NQWT_LAYOUT.offsetOf('WTJG') + 11);
    // Record 2 with a blank price (was sent as price 0); record 3 appended blank, filled a moment later.
    writeBytes(lab.orders, Buffer.concat([blankPrice, Buffer.alloc(R, 0x20), Buffer.from([0x1a])]), at(2));
    setCount(lab.orders, 3);
    await new Promise((r) => setTimeout(r, 300)); // the library's second step comes later
    writeBytes(lab.orders, encodeRows(NQWT_LAYOUT, [makeOrder('729900', 3, now)]), at(3));
    const filledAt = Date.now();
    await app.close();

    await gateway.waitFor(/委托第 2 笔不是有效委托, 未发送, 处理标志已置为2.*NQ503.*WTJG/);
    await waitUntil(
      async () => (await admin.orders(lab.station)).length === 2,
      'orders 1 and 3 taken',
      10_000,
    );
    expect(Date.now() - filledAt).toBeLessThan(10_000); // not the 30 s of an invalid flag
    expect((await admin.orders(lab.station)).map((o) => o.LSH)).toEqual(['1', '3']);
    expect(gateway.output).not.toMatch(/NQ403|处理标志非法|NQ502|被替换|replaced under/);
    expect((await readOrderFile(lab.orders)).map((o) => o.CLBZ)).toEqual(['1', '1']); // 2 is not an order
    const flag2 = fs.readFileSync(lab.orders)[at(2) + NQWT_LAYOUT.offsetOf('CLBZ')];
    expect(String.fromCharCode(flag2!)).toBe('2');

    const status = await waitUntil(async () => {
      const s = await jsonOf<{ rejected: number; unsent?: { count: number; last: string | null } }>([
        'status',
        '--config',
        lab.twIni,
        '--json',
      ]);
      return s.unsent?.count === 1 ? s : null;
    }, 'status: 未发送 1');
    expect(status.rejected).toBe(1);
    expect(status.unsent?.last).toMatch(/第 2 笔 NQ503/);
    const screen = (await runNqgw(['status', '--config', lab.twIni])).output;
    expect(screen).toMatch(/未发送 1 笔/);
    const alerts = await jsonOf<{ active: { code: string; words: string }[] }>([
      'alerts',
      '--config',
      lab.twIni,
      '--json',
    ]);
    expect(alerts.active.find((a) => a.code === 'ORDER_UNSENT')?.words).toMatch(/委托第 2 笔/);

    const listed = await jsonOf<UnsentListing>(['orders', '--unsent', '--config', lab.twIni, '--json']);
    expect(listed.records).toMatchObject([
      { recNo: 2, unit: '729900', serial: '2', code: 'NQ503', clbz: '2' },
    ]);
    expect(listed.records[0]?.reason).toMatch(/WTJG/);

    // The gateway stops; the list still answers from the files.
    await gateway.stop('SIGTERM');
    const offline = await runNqgw(['orders', '--unsent', '--config', lab.twIni]);
    expect(offline.code).toBe(0);
    expect(offline.output).toMatch(/未发送 1 笔/);
    expect(offline.output).toMatch(/第 2 笔 {2}729900 {2}2 {2}CLBZ=2 {2}NQ503/);

    // The broker corrects record 2 in place and sets CLBZ back to '0'; the restarted gateway sends it.
    writeBytes(lab.orders, encodeRows(NQWT_LAYOUT, [makeOrder('729900', 2, now)]), at(2));
    gateway = startGateway(lab);
    running.push(gateway);
    await gateway.waitFor(/委托第 2 笔已更正, 重新处理/, 20_000);
    await waitUntil(async () => (await admin.orders(lab.station)).length === 3, 'order 2 taken', 10_000);
    expect((await admin.orders(lab.station)).map((o) => o.LSH)).toEqual(['1', '3', '2']);
    const empty = await jsonOf<UnsentListing>(['orders', '--unsent', '--config', lab.twIni, '--json']);
    expect(empty.count).toBe(0);
  });
});
