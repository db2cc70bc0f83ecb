import { rm } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MessageType } from '../../../appliance/src/link/messages.js';
import { makeOrder } from './client.js';
import { makeTestPki, type TestPki } from './certs.js';
import { DAY, eventually, SimHarness, type SimSettings } from './harness.js';

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

async function start(settings: SimSettings = {}): Promise<SimHarness> {
  h = await SimHarness.start(pki, settings);
  return h;
}

describe('admin faults', () => {
  it('notice: the station gets the text', async () => {
    const sim = await start();
    const c = await sim.logon();
    expect(
      (await sim.admin('POST', '/faults/notice', { station: 'W888888T', text: '今日系统维护' })).status,
    ).toBe(200);
    expect((await c.next(MessageType.Notice)).body.text).toBe('今日系统维护');
  });

  it('quit: the station gets a Quit and the link closes', async () => {
    const sim = await start();
    const c = await sim.logon();
    await sim.admin('POST', '/faults/quit', { station: 'W888888T', reason: 'drill' });
    expect((await c.next(MessageType.Quit)).body.reason).toBe('drill');
    await c.waitClosed();
    await eventually(async () => (await sim.admin('GET', '/stations/W888888T')).json.connected === false);
  });

  it('drop: the link is cut without a word', async () => {
    const sim = await start();
    const c = await sim.logon();
    expect((await sim.admin('POST', '/faults/drop', { station: 'W888888T' })).status).toBe(200);
    await c.waitClosed();
    expect(c.pending()).toEqual([]);
    // nothing live to drop any more
    await eventually(
      async () => (await sim.admin('POST', '/faults/drop', { station: 'W888888T' })).status === 404,
    );
  });

  it('suspend: E002 until resumed', async () => {
    const sim = await start();
    const c = await sim.logon();
    expect((await sim.admin('POST', '/securities/830005/suspend')).json).toMatchObject({ suspended: true });
    c.order(makeOrder(DAY, { ZQDM: '830005' }));
    expect((await c.returns(1))[0]).toMatchObject({ HBLB: '1', CWDM: 'E002', CWXX: '证券代码非法/已停牌' });
    await sim.admin('POST', '/securities/830005/resume');
    c.order(makeOrder(DAY, { ZQDM: '830005' }));
    expect((await c.returns(1))[0]).toMatchObject({ HBLB: '0' });
  });

  it('market: live stations are told, new logons see it', async () => {
    const sim = await start();
    const c = await sim.logon();
    await sim.admin('POST', '/market', { state: 'CLOSED' });
    expect((await c.next(MessageType.MarketState)).body.state).toBe('CLOSED');
    await c.close();
    const again = await sim.connect();
    expect((await again.logonAndWait('W888888T', ['729900'])).marketState).toBe('CLOSED');
  });

  it('silence: nothing sent and nothing read for ms, then business as usual', async () => {
    const sim = await start({ heartbeatS: 0.1 });
    const c = await sim.logon();
    await c.next(MessageType.Heartbeat);
    await sim.admin('POST', '/faults/silence', { station: 'W888888T', ms: 800 });
    const t0 = Date.now();
    const before = c.received.length;
    c.order(makeOrder(DAY));
    await c.next(MessageType.OrderAnswer, 5000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(700);
    // nothing at all came in during the silence (a heartbeat already on its way may land first)
    const during = c.receivedAt.slice(before).filter((at) => at - t0 > 100 && at - t0 < 700);
    expect(during).toEqual([]);
    expect(c.received.slice(before).find((m) => m.type !== MessageType.Heartbeat)?.type).toBe(
      MessageType.OrderAnswer,
    );
    await c.next(MessageType.Heartbeat);
  });

  it('answers 404 and 400 with a JSON error', async () => {
    const sim = await start();
    expect(await sim.admin('GET', '/stations/W000000X')).toMatchObject({
      status: 404,
      json: { error: expect.any(String) },
    });
    expect((await sim.admin('GET', '/nothing')).status).toBe(404);
    expect((await sim.admin('POST', '/faults/explode', { station: 'W888888T' })).status).toBe(404);
    expect((await sim.admin('POST', '/faults/silence', { station: 'W888888T' })).status).toBe(400);
    expect((await sim.admin('POST', '/faults/notice', { station: 'W888888T' })).status).toBe(400);
    expect((await sim.admin('POST', '/faults/notice', { station: 'W888888T', text: 'x' })).status).toBe(404);
    expect((await sim.admin('POST', '/securities/ABC/suspend')).status).toBe(400);
    expect((await sim.admin('POST', '/soft/W888888T', { date: '2026-11-23' })).status).toBe(400);
    const res = await fetch(`http://127.0.0.1:${sim.sim.adminPort}/market`, {
      method: 'POST',
      body: '{not json',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'body is not JSON' });
  });
});

describe('liveness', () => {
  it('sends a heartbeat every heartbeat_s', async () => {
    const sim = await start({ heartbeatS: 0.1 });
    const c = await sim.logon();
    const t0 = Date.now();
    await c.take(MessageType.Heartbeat, 3);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
  });

  it('drops a client silent for silence_s and says so in its log', async () => {
    const sim = await start({ silenceS: 0.5 });
    const c = await sim.logon();
    const t0 = Date.now();
    await c.waitClosed(5000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(400);
    const line = sim.lines.find((l) => l.includes('Client maybe quit, so I quit!'));
    expect(line).toMatch(/^\d{8} \d{2}:\d{2}:\d{2} W888888T Client maybe quit, so I quit!$/);
    expect((await sim.admin('GET', '/stations/W888888T')).json.connected).toBe(false);
  });

  it('keeps a client that sends heartbeats, whatever it is sent', async () => {
    const sim = await start({ silenceS: 0.5, heartbeatS: 0.1 });
    const c = await sim.logon();
    const timer = setInterval(() => c.send({ type: MessageType.Heartbeat, body: {} }), 100);
    await new Promise((r) => setTimeout(r, 1500));
    clearInterval(timer);
    expect(c.isClosed).toBe(false);
    expect(sim.lines.some((l) => l.includes('Client maybe quit'))).toBe(false);
  });
});
