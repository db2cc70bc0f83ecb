import { describe, expect, it } from 'vitest';
import { encodeMessage, MessageType } from '../../../appliance/src/link/index.js';
import { harness, LINK, type Harness } from './fake.js';
import { order, tick, upHarness, useLinkClock } from './fixtures.js';

/** A main station that stalls: keeps the link "up" while nothing useful comes. */
describe('LinkClient: a main station that stalls is a dead link', () => {
  let h: Harness;
  useLinkClock();

  const up = (answerTimeoutMs = 10_000): Promise<Harness> =>
    upHarness({ link: { ...LINK, answerTimeoutMs } });

  it('gives the link up when a frame is announced and dripped a byte every 5 s', async () => {
    h = await up();
    const c = h.conn();
    // A Notice announced, then its bytes one by one: bytes keep coming, no frame ever completes.
    const frame = encodeMessage({ type: MessageType.Notice, body: { text: 'x'.repeat(1000) } }, 2);
    let at = 0;
    for (; at < 4; at++) {
      c.feedRaw(frame.subarray(at * 5, at * 5 + 5)); // the 16-byte header, then the body
      await tick(5_000);
    }
    expect(h.client.state).toBe('backoff'); // 20 s after the last complete frame (the logon answer)
    const nq321 = h.logs.find((l) => l.code === 'NQ321');
    expect(nq321?.text).toMatch(/主站数据包 20 秒未收完整: 包头宣称 \d+ 字节, 只收到 4 字节; 判定链路失效/);
    expect(h.logs.find((l) => l.code === 'NQ303')?.text).toMatch(/连接超时.*no complete frame for 20000 ms/);
    await tick(1_000);
    expect(h.dialled).toEqual([0, 1]); // the next server, as for silence
  });

  it('keeps the link while complete frames keep coming, however slowly they are cut', async () => {
    h = await up();
    const c = h.conn();
    for (let i = 0; i < 6; i++) {
      const hb = encodeMessage({ type: MessageType.Heartbeat, body: {} }, 2 + i);
      c.feedRaw(hb.subarray(0, 10));
      await tick(4_000);
      c.feedRaw(hb.subarray(10));
      await tick(4_000);
    }
    expect(h.client.state).toBe('up');
  });

  it('raises NQ320 and moves to the next server when orders go unanswered while heartbeats flow', async () => {
    h = await up(10_000);
    const c = h.conn();
    const downs: string[] = [];
    h.client.on('down', (d) => downs.push(d.reason));
    expect(h.client.sendOrders([7, 8, 9].map((n) => ({ body: order(String(n)), possDup: false })))).toBe(
      true,
    );
    for (let i = 0; i < 3; i++) {
      await tick(3_000);
      c.feed({ type: MessageType.Heartbeat, body: {} });
    }
    // One answer comes: order 7. Orders 8 and 9 stay unanswered.
    c.feed({ type: MessageType.OrderAnswer, body: { JYDY: '729900', LSH: '7', status: 'taken' } });
    expect(h.client.state).toBe('up');
    await tick(999);
    expect(h.client.state).toBe('up');
    await tick(1);
    expect(h.client.state).toBe('backoff');
    const nq320 = h.logs.find((l) => l.code === 'NQ320');
    expect(nq320?.level).toBe('error');
    expect(nq320?.text).toContain('主站 10 秒未应答委托: 2 笔未获应答, 最早为委托第 8 笔');
    expect(nq320?.text).toContain('切换到下一通信服务器');
    expect(downs).toHaveLength(1);
    await tick(1_000);
    expect(h.dialled).toEqual([0, 1]);
  });

  it('stays stalled across the reconnect until the main station answers again', async () => {
    h = await up(10_000);
    expect(h.client.stalled).toBeNull();
    h.client.sendOrders([{ body: order('5'), possDup: false }]);
    await tick(5_000);
    h.conn().feed({ type: MessageType.Heartbeat, body: {} });
    await tick(5_000);
    expect(h.client.stalled).toBe('1 orders unanswered, oldest record 5');
    await tick(1_000);
    const next = h.conn();
    expect(h.dialled).toEqual([0, 1]);
    next.logonOk();
    expect(h.client.state).toBe('up');
    expect(h.client.stalled).not.toBeNull(); // up, but not yet shown to take orders
    await tick(2_000);
    h.client.sendOrders([{ body: order('5'), possDup: true }]); // the gateway's resend
    next.feed({ type: MessageType.Heartbeat, body: {} });
    await tick(9_000); // up for 11 s, past the backoff reset, but the resend is still unanswered
    expect(h.client.state).toBe('up');
    expect(h.client.stalled).not.toBeNull();
    next.feed({ type: MessageType.OrderAnswer, body: { JYDY: '729900', LSH: '5', status: 'duplicate' } });
    expect(h.client.stalled).toBeNull();
  });

  it('is no longer stalled once a session stays up with nothing left unanswered', async () => {
    h = await up(10_000);
    h.client.sendOrders([{ body: order('5'), possDup: false }]);
    await tick(10_000);
    expect(h.client.stalled).not.toBeNull();
    await tick(1_000);
    h.conn().logonOk(); // next server; nothing to resend (the order was answered elsewhere)
    await tick(5_000);
    h.conn().feed({ type: MessageType.Heartbeat, body: {} });
    await tick(4_999);
    expect(h.client.stalled).not.toBeNull();
    await tick(1);
    expect(h.client.stalled).toBeNull();
  });

  it('does not count answered orders, nor time before an order was sent', async () => {
    h = await up(10_000);
    const c = h.conn();
    for (let i = 0; i < 6; i++) {
      await tick(5_000); // 30 s idle, the main station heartbeating
      c.feed({ type: MessageType.Heartbeat, body: {} });
    }
    for (let round = 0; round < 5; round++) {
      h.client.sendOrders([{ body: order(String(100 + round)), possDup: false }]);
      await tick(9_000);
      c.feed({
        type: MessageType.OrderAnswer,
        body: { JYDY: '729900', LSH: String(100 + round), status: 'taken' },
      });
      await tick(5_000);
      c.feed({ type: MessageType.Heartbeat, body: {} });
    }
    expect(h.client.state).toBe('up');
    expect(h.logs.some((l) => l.code === 'NQ320')).toBe(false);
  });
});

describe('LinkClient: reconnect backoff after a logon that does not last', () => {
  let h: Harness;
  useLinkClock();

  /** Every connection: logon accepted, then Quit at once. Returns the dial times. */
  function quitAtOnce(hh: Harness): number[] {
    const times: number[] = [];
    hh.client.on('state', (s) => {
      if (s !== 'logging-on') return;
      times.push(Date.now());
      const c = hh.conn();
      // After the state change the session attaches to the connection and sends its Logon.
      queueMicrotask(() => {
        c.logonOk();
        c.feed({ type: MessageType.Quit, body: { reason: 'go away' } });
      });
    });
    return times;
  }

  it('keeps backing off when each logon is quit at once (was 4 logons a second)', async () => {
    h = harness();
    const times = quitAtOnce(h);
    const t0 = Date.now();
    h.client.start();
    await tick(10_000);
    // random 0.5: 500, 1000, 2000, 4000 ms -> logons at 0, .5, 1.5, 3.5, 7.5 s (was every 250 ms).
    expect(times.map((t) => t - t0)).toEqual([0, 500, 1500, 3500, 7500]);
    await tick(60_000);
    // Capped at backoff_max_ms: one logon every 5 s (0.5 x 10 s), never 4 a second.
    expect(times.length).toBe(5 + 12);
    expect(h.dialled.every((i) => i === 0)).toBe(true); // quit keeps the server
  });

  it('keeps backing off when each logon is refused', async () => {
    h = harness();
    const times: number[] = [];
    h.client.on('state', (s) => {
      if (s !== 'logging-on') return;
      times.push(Date.now());
      const c = h!.conn();
      queueMicrotask(() =>
        c.feed({
          type: MessageType.LogonAnswer,
          body: {
            ok: false,
            code: 'R1',
            text: '小站号已登录',
            tradingDate: '20260302',
            marketState: '',
            serverTime: 0,
          },
        }),
      );
    });
    const t0 = Date.now();
    h.client.start();
    await tick(10_000);
    expect(times.map((t) => t - t0)).toEqual([0, 500, 1500, 3500, 7500]);
  });

  it('starts again from zero once a session has stayed up for a heartbeat interval', async () => {
    h = harness();
    quitAtOnce(h);
    h.client.start();
    await tick(4_000); // logons at 0, .5, 1.5, 3.5 s: the backoff has grown
    expect(h.dialled).toHaveLength(4);
    h.client.removeAllListeners('state');
    await tick(4_000); // logon 5 at 7.5 s, this time answered and left up
    expect(h.dialled).toHaveLength(5);
    const fifth = h.conn();
    fifth.logonOk();
    expect(h.client.state).toBe('up');
    await tick(9_999);
    fifth.feed({ type: MessageType.Quit, body: { reason: 'bye' } }); // up for less than 10 s
    await tick(5_000 - 1); // attempt 6: random 0.5 x backoff_max_ms (10 s)
    expect(h.dialled).toHaveLength(5);
    await tick(1);
    expect(h.dialled).toHaveLength(6);
    const sixth = h.conn();
    sixth.logonOk();
    await tick(10_000); // stayed up a heartbeat interval
    sixth.feed({ type: MessageType.Heartbeat, body: {} });
    sixth.feed({ type: MessageType.Quit, body: { reason: 'bye' } });
    await tick(249);
    expect(h.dialled).toHaveLength(6);
    await tick(1);
    expect(h.dialled).toHaveLength(7); // 0.5 x backoff_initial_ms again
  });
});
