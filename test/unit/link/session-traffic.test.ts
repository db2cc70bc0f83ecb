import { describe, expect, it, vi } from 'vitest';
import { MessageType } from '../../../appliance/src/link/index.js';
import { harness, SERVERS, type Harness } from './fake.js';
import { order, ret, tick, upHarness, useLinkClock } from './fixtures.js';

describe('LinkClient: traffic, faults and shutdown', () => {
  let h: Harness;
  useLinkClock();

  it('refuses to send orders unless up, and sends a batch as one write', async () => {
    h = harness();
    expect(h.client.sendOrders([{ body: order('1'), possDup: false }])).toBe(false);
    h.client.start();
    expect(h.client.sendOrders([{ body: order('1'), possDup: false }])).toBe(false);
    await tick();
    expect(h.client.sendOrders([{ body: order('1'), possDup: false }])).toBe(false); // logging-on
    expect(h.client.writable).toBe(false);
    h.conn().logonOk();
    expect(h.client.writable).toBe(true);
    const writes = h.conn().written.length;
    const batch = Array.from({ length: 500 }, (_, i) => ({
      body: order(String(i + 1)),
      possDup: i % 2 === 0,
    }));
    expect(h.client.sendOrders(batch)).toBe(true);
    expect(h.conn().written).toHaveLength(writes + 1);
    const orders = h.conn().sentOf(MessageType.Order);
    expect(orders).toHaveLength(500);
    expect(orders.map((o) => o.seq)).toEqual(Array.from({ length: 500 }, (_, i) => i + 2));
    expect(orders[0]).toMatchObject({ possDup: true, body: order('1') });
    expect(orders[1]).toMatchObject({ possDup: false, body: order('2') });
    expect(h.client.ackReturn(7)).toBe(true);
    expect(h.conn().sent().at(-1)).toMatchObject({
      type: MessageType.ReturnAck,
      seq: 502,
      body: { HBXH: 7 },
    });
    h.client.reconnect('test');
    expect(h.client.sendOrders(batch)).toBe(false);
    expect(h.client.ackReturn(8)).toBe(false);
  });

  it('batches returns and order answers per incoming chunk, in arrival order', async () => {
    h = await upHarness();
    const batches: number[][] = [];
    const answers: string[][] = [];
    h.client.on('returns', (rs) => batches.push(rs.map((r) => r.HBXH)));
    h.client.on('orderAnswers', (as) => answers.push(as.map((a) => `${a.LSH}:${a.status}`)));
    const c = h.conn();
    c.feed(
      { type: MessageType.OrderAnswer, body: { JYDY: '729900', LSH: '1', status: 'taken' } },
      { type: MessageType.Return, body: ret(1) },
      { type: MessageType.Return, body: ret(2) },
      { type: MessageType.OrderAnswer, body: { JYDY: '729900', LSH: '2', status: 'duplicate' } },
      { type: MessageType.Return, body: ret(3) },
    );
    expect(batches).toEqual([[1, 2, 3]]);
    expect(answers).toEqual([['1:taken', '2:duplicate']]);
    // A frame split over two chunks is delivered with the chunk that completes it.
    const bytes = c.encode(
      { type: MessageType.Return, body: ret(4) },
      { type: MessageType.Return, body: ret(5) },
    );
    c.feedRaw(bytes.subarray(0, 30));
    expect(batches).toHaveLength(1);
    c.feedRaw(bytes.subarray(30));
    expect(batches).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
  });

  it('drops the link on a gap or repeat in the incoming sequence, after delivering what came before', async () => {
    h = await upHarness();
    const batches: number[][] = [];
    h.client.on('returns', (rs) => batches.push(rs.map((r) => r.HBXH)));
    const c = h.conn();
    const good = c.encode({ type: MessageType.Return, body: ret(1) });
    c.encode({ type: MessageType.Return, body: ret(2) }); // seq 3 skipped over: never sent
    const afterGap = c.encode({ type: MessageType.Return, body: ret(3) });
    c.feedRaw(Buffer.concat([good, afterGap]));
    expect(batches).toEqual([[1]]);
    expect(h.client.state).toBe('backoff');
    expect(h.logs.some((l) => l.code === 'NQ393' && l.text.includes('expected 3, got 4'))).toBe(true);
    expect(h.logs.some((l) => l.code === 'NQ306')).toBe(true);
  });

  it('drops the link on garbage, and on a message before the logon answer', async () => {
    h = await upHarness();
    h.conn().feedRaw(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    expect(h.client.state).toBe('backoff');
    expect(h.logs.some((l) => l.code === 'NQ390')).toBe(true);
    await tick(10_000);
    expect(h.client.state).toBe('logging-on');
    h.conn().feed({ type: MessageType.Return, body: ret(1) });
    expect(h.client.state).toBe('backoff');
  });

  it('warns NQ308 while a write stays undrained, repeating every 5 s, until drain', async () => {
    h = await upHarness();
    const blocked: number[] = [];
    let drains = 0;
    h.client.on('sendBlocked', (ms) => blocked.push(ms));
    h.client.on('drain', () => drains++);
    const c = h.conn();
    c.writeResult = false;
    h.client.sendOrders([{ body: order('1'), possDup: false }]);
    expect(h.client.writable).toBe(false);
    for (let i = 0; i < 4; i++) {
      await tick(4_000);
      c.feed({ type: MessageType.Heartbeat, body: {} });
    }
    await tick(1);
    expect(blocked).toEqual([15_001]);
    expect(h.logs.find((l) => l.code === 'NQ308')?.text).toBe('警告：发送线程已阻塞 15001 毫秒');
    await tick(4_999);
    c.feed({ type: MessageType.Heartbeat, body: {} });
    expect(blocked).toEqual([15_001, 20_001]);
    c.writeResult = true;
    c.emit('drain');
    expect(drains).toBe(1);
    expect(h.client.writable).toBe(true);
    await tick(9_000);
    expect(blocked).toHaveLength(2);
  });

  it('switches to the server an operator names, at once', async () => {
    h = await upHarness();
    const downs: unknown[] = [];
    h.client.on('down', (d) => downs.push(d));
    expect(() => h!.client.switchTo(3)).toThrow(RangeError);
    h.client.switchTo(2);
    expect(downs).toEqual([{ server: SERVERS[0], reason: expect.any(String) }]);
    await tick();
    expect(h.dialled).toEqual([0, 2]);
    expect(h.client.serverIndex).toBe(2);
  });

  it('drops the link loudly when the returns handler throws', async () => {
    h = await upHarness();
    h.client.on('returns', () => {
      throw new Error('disk full');
    });
    h.conn().feed({ type: MessageType.Return, body: ret(1) });
    expect(
      h.logs.some((l) => l.level === 'error' && l.code === 'NQ397' && l.text.includes('disk full')),
    ).toBe(true);
    expect(h.client.state).toBe('backoff');
  });

  it('reconnects after the peer closes, logging NQ305 and NQ306', async () => {
    h = await upHarness();
    await tick(10_000); // up for a heartbeat interval: the backoff starts again from zero
    h.conn().destroy();
    expect(h.logs.slice(-3, -1).map((l) => l.text)).toEqual([
      '连接断开',
      '通信状态出错, 系统将自动与服务器重新建立连接, 请稍候...',
    ]);
    expect(h.logs.at(-1)?.text).toBe('250 毫秒后连接 server2 10.0.0.2:7043');
    await tick(1_000);
    expect(h.dialled).toEqual([0, 1]);
  });

  it('accepts a notice and a quit instead of a logon answer (unit not of this station)', async () => {
    h = harness();
    const quits: string[] = [];
    h.client.on('quit', (r) => quits.push(r));
    h.client.start();
    await tick();
    const text = '交易单元729901不属于本小站，请检查配置文件';
    h.conn().feed(
      { type: MessageType.Notice, body: { text } },
      { type: MessageType.Quit, body: { reason: text } },
    );
    expect(h.logs.map((l) => l.code)).toEqual(expect.arrayContaining(['NQ307', 'NQ304']));
    expect(h.logs.some((l) => l.code === 'NQ393')).toBe(false);
    expect(quits).toEqual([text]);
    expect(h.client.state).toBe('backoff');
  });

  it('says goodbye with a Quit when stopped or reconnected by an operator while up', async () => {
    h = await upHarness();
    const first = h.conn();
    h.client.reconnect('operator test');
    expect(first.sentOf(MessageType.Quit)).toEqual([
      expect.objectContaining({ body: { reason: 'operator test' } }),
    ]);
    await tick();
    h.conn().logonOk();
    const second = h.conn();
    await h.client.stop();
    expect(second.sentOf(MessageType.Quit)).toEqual([
      expect.objectContaining({ body: { reason: 'stopped' } }),
    ]);
    expect(second.ended && second.destroyed).toBe(true);
  });

  it('stop() closes the connection and leaves no timer behind, in every state', async () => {
    h = await upHarness();
    h.client.sendOrders([{ body: order('1'), possDup: false }]);
    const c = h.conn();
    await h.client.stop();
    expect(c.destroyed).toBe(true);
    expect(h.client.state).toBe('stopped');
    expect(h.client.server).toBeNull();
    expect(vi.getTimerCount()).toBe(0);

    h.client.start(); // connecting
    await h.client.stop();
    expect(vi.getTimerCount()).toBe(0);

    h.behaviour = () => 'hang';
    h.client.start();
    await tick(1_000);
    await h.client.stop();
    expect(vi.getTimerCount()).toBe(0);

    h.behaviour = () => new Error('refused');
    h.client.start();
    await tick(); // now in backoff
    expect(h.client.state).toBe('backoff');
    await h.client.stop();
    expect(vi.getTimerCount()).toBe(0);
    expect(h.states.at(-1)).toBe('stopped');
  });
});
