import { rm } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MessageType, type OrderBody } from '../../../appliance/src/link/messages.js';
import { makeOrder } from './client.js';
import { makeTestPki, type TestPki } from './certs.js';
import { DAY, eventually, SimHarness } from './harness.js';

let pki: TestPki;
let h: SimHarness | undefined;

beforeAll(async () => {
  pki = await makeTestPki(['W888888T']);
});
afterAll(async () => {
  await rm(pki.dir, { recursive: true, force: true });
});
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

async function start(fillRule = 'full'): Promise<SimHarness> {
  h = await SimHarness.start(pki, { fillRule });
  return h;
}

describe('orders over TLS', () => {
  it('rejects each broken rule with one HBLB 1 return, code and text', async () => {
    const sim = await start();
    const c = await sim.logon('W888888T', ['729900', '729901']);
    const cases: [Partial<OrderBody>, string, string][] = [
      [{ JYDY: '729800' }, 'E005', '交易单元非法'],
      [{ WTRQ: '20261122' }, 'E004', '日期非法'],
      [{ LSH: '12345678901' }, 'E001', '流水号非法'],
      [{ ZQDM: '600000' }, 'E002', '证券代码非法/已停牌'],
      [{ ZQDM: '4300' }, 'E002', '证券代码非法/已停牌'],
      [{ YWLB: '9Z' }, 'E003', '为非法业务'],
      [{ YWLB: '1B', DFXW: '', YDH: '000001' }, 'E003', '为非法业务'],
      [{ YWLB: 'CX', CDLSH: '' }, 'E003', '为非法业务'],
    ];
    let seq = 0;
    for (const [fields, code, text] of cases) {
      const o = makeOrder(DAY, fields);
      c.order(o);
      const answer = await c.next(MessageType.OrderAnswer);
      expect(answer.body).toEqual({ JYDY: o.JYDY, LSH: o.LSH, status: 'taken' });
      const [ret] = await c.returns(1);
      expect(ret, code).toMatchObject({
        HBXH: ++seq,
        HBLB: '1',
        CWDM: code,
        CWXX: text,
        LSH: o.LSH,
        recNo: o.recNo,
      });
      expect(ret!.HBRQ).toBe(DAY);
      expect(ret!.HBSJ).toMatch(/^10\d{4}$/);
    }
    expect((await sim.admin('GET', '/stations/W888888T')).json).toMatchObject({
      ordersTaken: cases.length,
      rejected: cases.length,
      returns: cases.length,
    });
  });

  it('confirms and fills in full with unique fill numbers', async () => {
    const sim = await start('full');
    const c = await sim.logon();
    const a = makeOrder(DAY, { WTSL: 300, WTJG: 9.99 });
    const b = makeOrder(DAY, { JYDY: '729900', ZQDM: '870002', YWLB: '0S' });
    c.order(a);
    c.order(b);
    const rets = await c.returns(4);
    expect(rets.map((r) => [r.HBXH, r.LSH, r.HBLB])).toEqual([
      [1, a.LSH, '0'],
      [2, a.LSH, '2'],
      [3, b.LSH, '0'],
      [4, b.LSH, '2'],
    ]);
    expect(rets[1]).toMatchObject({ CJSL: 300, CJJG: 9.99 });
    expect(rets[1]!.CJBH).not.toBe(rets[3]!.CJBH);
    expect(rets[1]!.CJBH).toHaveLength(16);
  });

  it('half: a confirmation and two fills', async () => {
    const sim = await start('half');
    const c = await sim.logon();
    c.order(makeOrder(DAY, { WTSL: 1000 }));
    const rets = await c.returns(3);
    expect(rets.map((r) => [r.HBLB, r.CJSL])).toEqual([
      ['0', 0],
      ['2', 500],
      ['2', 500],
    ]);
  });

  it('confirm: no fill, and a CX cancels the open order once', async () => {
    const sim = await start('confirm');
    const c = await sim.logon();
    const o = makeOrder(DAY, { WTSL: 700 });
    c.order(o);
    expect((await c.returns(1))[0]!.HBLB).toBe('0');
    const cx = makeOrder(DAY, { YWLB: 'CX', CDLSH: o.LSH, WTSL: 0 });
    c.order(cx);
    const [cancel] = await c.returns(1);
    expect(cancel).toMatchObject({ HBXH: 2, HBLB: '3', LSH: o.LSH, YWLB: 'CX', CJSL: 700, recNo: cx.recNo });
    c.order(makeOrder(DAY, { YWLB: 'CX', CDLSH: o.LSH, WTSL: 0 }));
    expect((await c.returns(1))[0]).toMatchObject({ HBXH: 3, HBLB: '1', CWDM: 'E001' });
  });

  it('full: a CX of a filled order is rejected E001', async () => {
    const sim = await start('full');
    const c = await sim.logon();
    const o = makeOrder(DAY);
    c.order(o);
    await c.returns(2);
    c.order(makeOrder(DAY, { YWLB: 'CX', CDLSH: o.LSH, WTSL: 0 }));
    expect((await c.returns(1))[0]).toMatchObject({ HBLB: '1', CWDM: 'E001' });
  });

  it('drops a possDup resend without a rejection, rejects a plain repeat (exactly once)', async () => {
    const sim = await start('confirm');
    const c = await sim.logon();
    const o = makeOrder(DAY, { LSH: '9001' });
    c.order(o);
    await c.next(MessageType.OrderAnswer);
    expect((await c.returns(1))[0]!.HBLB).toBe('0');

    c.order(o, true);
    expect((await c.next(MessageType.OrderAnswer)).body).toEqual({
      JYDY: '729900',
      LSH: '9001',
      status: 'duplicate',
    });

    c.order(o, false);
    expect((await c.next(MessageType.OrderAnswer)).body.status).toBe('taken');
    const [reject] = await c.returns(1);
    expect(reject).toMatchObject({ HBXH: 2, HBLB: '1', CWDM: 'E001', CWXX: '流水号非法' });

    // a possDup order never seen before is simply taken
    const fresh = makeOrder(DAY, { LSH: '9002' });
    c.order(fresh, true);
    expect((await c.next(MessageType.OrderAnswer)).body.status).toBe('taken');
    expect((await c.returns(1))[0]).toMatchObject({ HBXH: 3, HBLB: '0', LSH: '9002' });

    const report = (await sim.admin('GET', '/stations/W888888T')).json;
    expect(report).toMatchObject({ ordersTaken: 3, duplicatesDropped: 1, rejected: 1, returns: 3 });
    const orders = (await sim.admin('GET', '/stations/W888888T/orders')).json;
    expect(orders).toEqual([
      { JYDY: '729900', LSH: '9001', possDup: false, recNo: o.recNo },
      { JYDY: '729900', LSH: '9001', possDup: false, recNo: o.recNo },
      { JYDY: '729900', LSH: '9002', possDup: true, recNo: fresh.recNo },
    ]);
    expect(c.pending()).toEqual([]);
  });

  it('noFills logon (不接受成交): confirmations only, HBXH without gaps', async () => {
    const sim = await start('full');
    const c = await sim.connect();
    c.send({
      type: MessageType.Logon,
      body: {
        station: 'W888888T',
        units: ['729900'],
        lastReturnSeq: 0,
        auth: 'ekey',
        tradingDate: DAY,
        software: 't',
        noFills: true,
      },
    });
    expect((await c.next(MessageType.LogonAnswer)).body.ok).toBe(true);
    c.order(makeOrder(DAY));
    c.order(makeOrder(DAY));
    expect((await c.returns(2)).map((r) => [r.HBXH, r.HBLB])).toEqual([
      [1, '0'],
      [2, '0'],
    ]);
    await new Promise((r) => setTimeout(r, 100));
    expect(c.pending().filter((m) => m.type === MessageType.Return)).toEqual([]);
  });

  it('records ReturnAck (highest sequence)', async () => {
    const sim = await start();
    const c = await sim.logon();
    c.order(makeOrder(DAY));
    await c.returns(2);
    c.send({ type: MessageType.ReturnAck, body: { HBXH: 2 } });
    c.send({ type: MessageType.ReturnAck, body: { HBXH: 1 } });
    await eventually(async () => (await sim.admin('GET', '/stations/W888888T')).json.lastAcked === 2);
  });

  it('keeps up with a pipelined burst of 20,000 orders (prints the rate)', async () => {
    const sim = await start('full');
    const c = await sim.logon();
    const n = 20_000;
    const t0 = performance.now();
    for (let i = 1; i <= n; i++) c.order(makeOrder(DAY, { LSH: String(100_000 + i) }));
    const answers = await c.take(MessageType.OrderAnswer, n, 60_000);
    const ms = performance.now() - t0;
    console.log(
      `sim: ${n} orders answered in ${ms.toFixed(0)} ms, ${Math.round((n / ms) * 1000)} orders/s over TLS`,
    );
    expect(answers.every((a) => a.body.status === 'taken')).toBe(true);
    const rets = await c.returns(2 * n, 60_000);
    expect(rets.map((r) => r.HBXH)).toEqual(Array.from({ length: 2 * n }, (_, i) => i + 1));
  });
});
