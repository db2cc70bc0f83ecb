import { describe, expect, it } from 'vitest';
import { MessageType } from '../../../appliance/src/link/index.js';
import { harness, SERVERS, type Harness } from './fake.js';
import { order, tick, upHarness, useLinkClock } from './fixtures.js';

describe('LinkClient: logon, liveness and the server walk', () => {
  let h: Harness;
  useLinkClock();

  it('logs on with the station, units and the lastReturnSeq asked at each logon', async () => {
    h = harness();
    h.lastReturnSeq = 41;
    h.client.start();
    expect(h.client.state).toBe('connecting');
    await tick();
    expect(h.client.state).toBe('logging-on');
    const [logon] = h.conn().sent();
    expect(logon).toMatchObject({
      type: MessageType.Logon,
      seq: 1,
      body: {
        station: 'W888888T',
        units: ['729900', '729901'],
        lastReturnSeq: 41,
        auth: 'file',
        tradingDate: '20260302',
      },
    });
    // The vendor's order: certificate, 小站端等待主站应答, then 小站端与服务器连接成功.
    expect(h.logs.map((l) => l.code)).toEqual(['NQ301', 'NQ310', 'NQ254', 'NQ302']);
    expect(h.logs[0]!.text).toBe(
      '正在以小站号: W888888T 连接通信服务器 server1 10.0.0.1:7043, 等待服务器响应',
    );
    expect(h.logs[1]!.text).toBe('服务器证书: CN=mainstation, O=NEEQ');

    const ups: unknown[] = [];
    h.client.on('up', (u) => ups.push(u));
    const markets: string[] = [];
    h.client.on('market', (m) => markets.push(m));
    h.conn().logonOk('PRE_OPEN');
    expect(h.client.state).toBe('up');
    expect(ups).toEqual([{ server: SERVERS[0], answer: expect.objectContaining({ ok: true }) }]);
    expect(markets).toEqual(['PRE_OPEN']);
    expect(h.states).toEqual(['connecting', 'logging-on', 'up']);

    // The next logon asks again.
    h.lastReturnSeq = 57;
    h.client.reconnect('test');
    await tick();
    expect(h.conns).toHaveLength(2);
    expect(h.conn().sent()[0]).toMatchObject({
      type: MessageType.Logon,
      seq: 1,
      body: { lastReturnSeq: 57 },
    });
  });

  it('sends a heartbeat after 10 s with nothing sent, and sending postpones it', async () => {
    h = await upHarness();
    const c = h.conn();
    await tick(9_999);
    expect(c.sentOf(MessageType.Heartbeat)).toHaveLength(0);
    await tick(1);
    expect(c.sentOf(MessageType.Heartbeat)).toEqual([expect.objectContaining({ seq: 2, body: {} })]);
    c.feed({ type: MessageType.Heartbeat, body: {} });
    await tick(5_000);
    expect(h.client.sendOrders([{ body: order('1'), possDup: false }])).toBe(true); // at 15 s
    await tick(9_999); // 24.999 s: 10 s after the order not yet reached
    c.feed({ type: MessageType.Heartbeat, body: {} });
    expect(c.sentOf(MessageType.Heartbeat)).toHaveLength(1);
    await tick(1);
    expect(c.sentOf(MessageType.Heartbeat)).toHaveLength(2);
    expect(h.client.state).toBe('up');
  });

  it('drops a silent link after 20 s even while it keeps sending (MQTT.js#1861)', async () => {
    h = await upHarness();
    const downs: unknown[] = [];
    h.client.on('down', (d) => downs.push(d));
    for (let s = 1; s < 20; s++) {
      await tick(1_000);
      h.client.sendOrders([{ body: order(String(s)), possDup: false }]);
      expect(h.client.state).toBe('up');
    }
    await tick(1_000);
    expect(h.client.state).toBe('backoff');
    expect(downs).toEqual([{ server: SERVERS[0], reason: expect.stringContaining('20000 ms') }]);
    expect(
      h.logs.some((l) => l.code === 'NQ303' && l.text.startsWith('连接超时，系统将自动与服务器重新建立连接')),
    ).toBe(true);
    expect(h.conns[0]!.destroyed).toBe(true);
    await tick(1_000);
    expect(h.dialled).toEqual([0, 1]); // next server
  });

  it('keeps a link alive while the main station talks', async () => {
    h = await upHarness();
    for (let i = 0; i < 10; i++) {
      await tick(9_000);
      h.conn().feed({ type: MessageType.Heartbeat, body: {} });
    }
    expect(h.client.state).toBe('up');
    expect(h.conns).toHaveLength(1);
  });

  it('on quit: emits quit, logs NQ304, closes and reconnects to the same server after backoff', async () => {
    h = await upHarness();
    await tick(10_000); // up for a heartbeat interval: the backoff starts again from zero
    const quits: string[] = [];
    h.client.on('quit', (r) => quits.push(r));
    h.conn().feed({ type: MessageType.Quit, body: { reason: 'another session for W888888T' } });
    expect(quits).toEqual(['another session for W888888T']);
    expect(h.logs.find((l) => l.code === 'NQ304')?.text).toBe('收到quit包, 连接中断');
    expect(h.client.state).toBe('backoff');
    expect(h.conns[0]!.destroyed).toBe(true);
    // random 0.5, first attempt after a session that stayed up: 0.5 * 500 ms.
    await tick(249);
    expect(h.dialled).toEqual([0]);
    await tick(1);
    expect(h.dialled).toEqual([0, 0]);
  });

  it('turns a notice into an event and an NQ307 log line', async () => {
    h = await upHarness();
    const notices: string[] = [];
    h.client.on('notice', (t) => notices.push(t));
    h.conn().feed({ type: MessageType.Notice, body: { text: '今日14:00系统维护' } });
    expect(notices).toEqual(['今日14:00系统维护']);
    expect(h.logs.at(-1)).toEqual({ level: 'info', code: 'NQ307', text: '主站特别提示: 今日14:00系统维护' });
    h.conn().feed({ type: MessageType.MarketState, body: { state: 'CLOSED' } });
    expect(h.client.state).toBe('up');
  });

  it('on a refused logon: emits refused and retries the same server with growing backoff', async () => {
    h = harness({ random: () => 0.999 });
    const refusals: unknown[] = [];
    h.client.on('refused', (a) => refusals.push(a));
    h.client.start();
    for (const ceiling of [1_000, 2_000, 4_000]) {
      await tick();
      h.conn().feed({
        type: MessageType.LogonAnswer,
        body: {
          ok: false,
          code: 'E101',
          text: '小站软加密未授权',
          tradingDate: '20260302',
          marketState: '',
          serverTime: 0,
        },
      });
      expect(h.client.state).toBe('backoff');
      const dialled = h.dialled.length;
      await tick(Math.floor(0.999 * ceiling) - 1);
      expect(h.dialled).toHaveLength(dialled);
      await tick(1);
      expect(h.dialled).toHaveLength(dialled + 1);
    }
    expect(refusals).toHaveLength(3);
    expect(h.dialled).toEqual([0, 0, 0, 0]);
    expect(
      h.logs.some((l) => l.level === 'error' && l.code === 'E101' && l.text.includes('小站软加密未授权')),
    ).toBe(true);
  });

  it('gives up an unanswered logon after connectTimeoutMs and tries the next server', async () => {
    h = harness({ random: () => 0 });
    h.client.start();
    await tick(4_999);
    expect(h.client.state).toBe('logging-on');
    await tick(1);
    expect(h.logs.some((l) => l.code === 'NQ303')).toBe(true);
    await tick(1); // a 0 ms timer, which Node (and the fake timers) run after 1 ms
    expect(h.dialled).toEqual([0, 1]);
  });

  it('walks on to the next server when connecting fails, and logs the reason', async () => {
    h = harness({ random: () => 0 });
    h.behaviour = (s) =>
      s.name === 'server1' ? Object.assign(new Error('connect ECONNREFUSED'), { code: 'NQ391' }) : 'ok';
    h.client.start();
    await tick();
    await tick();
    expect(h.dialled).toEqual([0, 1]);
    expect(h.logs.map((l) => l.code)).toContain('NQ306');
    expect(h.client.state).toBe('logging-on');
    expect(h.client.serverIndex).toBe(1);
    expect(h.client.server).toEqual(SERVERS[1]);
  });

  it('times a hanging connect out (NQ303) and aborts it', async () => {
    h = harness({ random: () => 0 });
    h.behaviour = () => 'hang';
    h.client.start();
    await tick(5_000);
    expect(h.logs.some((l) => l.code === 'NQ303')).toBe(true);
    expect(h.client.state === 'backoff' || h.client.state === 'connecting').toBe(true);
  });
});
