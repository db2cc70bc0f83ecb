import { rm } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MessageType } from '../../../appliance/src/link/messages.js';
import { TestClient, makeOrder } from './client.js';
import { makeTestPki, type TestPki } from './certs.js';
import { DAY, eventually, SimHarness } from './harness.js';

let pki: TestPki;
let h: SimHarness;

beforeAll(async () => {
  pki = await makeTestPki(['W888888T', 'W777777T', 'W999999X']);
});
afterAll(async () => {
  await rm(pki.dir, { recursive: true, force: true });
});
beforeEach(async () => {
  h = await SimHarness.start(pki);
});
afterEach(async () => {
  await h.stop();
});

describe('logon', () => {
  it('answers ok with the CST trading date and market state, then a MarketState', async () => {
    const c = await h.connect();
    const answer = await c.logonAndWait('W888888T', ['729900', '729901']);
    expect(answer).toMatchObject({ ok: true, tradingDate: DAY, marketState: 'OPEN' });
    expect(typeof answer.serverTime).toBe('number');
    expect((await c.next(MessageType.MarketState)).body.state).toBe('OPEN');
    expect(c.received[0]?.type).toBe(MessageType.LogonAnswer);
    const report = await h.admin('GET', '/stations/W888888T');
    expect(report.json).toMatchObject({ connected: true, lastLogon: { lastReturnSeq: 0, auth: 'ekey' } });
  });

  it('resends the returns after lastReturnSeq, in order, with the same HBXH', async () => {
    const c = await h.logon();
    for (let i = 0; i < 3; i++) c.order(makeOrder(DAY));
    const first = await c.returns(6); // each: confirmation + fill
    expect(first.map((r) => r.HBXH)).toEqual([1, 2, 3, 4, 5, 6]);
    await c.close();

    const again = await h.connect();
    const answer = await again.logonAndWait('W888888T', ['729900'], 2);
    expect(answer.ok).toBe(true);
    const resent = await again.returns(4);
    expect(resent).toEqual(first.slice(2));
    // the order on the wire: LogonAnswer, MarketState, then the returns
    expect(again.received.slice(0, 3).map((m) => m.type)).toEqual([
      MessageType.LogonAnswer,
      MessageType.MarketState,
      MessageType.Return,
    ]);
    await again.close();
    await eventually(async () => (await h.admin('GET', '/stations/W888888T')).json.connected === false);
    expect((await h.admin('GET', '/stations/W888888T')).json.lastLogon).toEqual({
      lastReturnSeq: 2,
      auth: 'ekey',
    });

    const all = await h.connect();
    await all.logonAndWait('W888888T', ['729900'], 0);
    expect((await all.returns(6)).map((r) => r.HBXH)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('refuses a second session of a live station and keeps the first', async () => {
    const first = await h.logon();
    const second = await h.connect();
    const answer = await second.logonAndWait('W888888T', ['729900']);
    expect(answer).toMatchObject({ ok: false, code: 'SESSION' });
    await second.waitClosed();
    first.order(makeOrder(DAY));
    expect((await first.next(MessageType.OrderAnswer)).body.status).toBe('taken');
    await first.close();
    // once the first is gone, a new session is welcome
    await h.logon();
  });

  it('refuses a certificate whose CN is not the station, in the vendor words', async () => {
    const c = await h.connect('W777777T');
    const answer = await c.logonAndWait('W888888T', ['729900']);
    expect(answer).toMatchObject({
      ok: false,
      code: 'CERT',
      text: '您的Ekey证书有误，请检查是否选择了正确的Ekey证书',
    });
    await c.waitClosed();
  });

  it('fails the TLS handshake for a certificate from another CA', async () => {
    const files = pki.clients.get('ROGUE')!;
    // TLS 1.3: the client may finish its side before the server's verdict arrives, then is closed
    const outcome = await TestClient.connect({ port: h.sim.port, ca: pki.ca, ...files }).then(
      async (c) => {
        await c.waitClosed();
        return 'closed';
      },
      () => 'refused',
    );
    expect(['refused', 'closed']).toContain(outcome);
    expect(h.lines.some((l) => l.includes('TLS handshake failed'))).toBe(true);
  });

  it('refuses an unknown station', async () => {
    const c = await h.connect('W999999X');
    const answer = await c.logonAndWait('W999999X', ['729900']);
    expect(answer).toMatchObject({ ok: false, code: 'STATION' });
    await c.waitClosed();
  });

  it('tells a station that a unit is not its own, sends quit and closes', async () => {
    const c = await h.connect();
    c.logon('W888888T', ['729900', '729800']);
    const notice = await c.next(MessageType.Notice);
    expect(notice.body.text).toBe('交易单元729800不属于本小站，请检查配置文件');
    await c.next(MessageType.Quit);
    await c.waitClosed();
    expect(c.received.map((m) => m.type)).toEqual([MessageType.Notice, MessageType.Quit]);
  });

  it('refuses a soft-encryption logon unless enabled for today', async () => {
    const c = await h.connect();
    expect(await c.logonAndWait('W888888T', ['729900'], 0, 'soft')).toMatchObject({
      ok: false,
      code: 'SOFT',
      text: '软加密未开通',
    });
    await c.waitClosed();

    // enabled for another day: still refused
    expect((await h.admin('POST', '/soft/W888888T', { date: '20261124' })).status).toBe(200);
    const c2 = await h.connect();
    expect((await c2.logonAndWait('W888888T', ['729900'], 0, 'soft')).code).toBe('SOFT');
    await c2.waitClosed();

    // enabled for today (the default date): accepted
    expect((await h.admin('POST', '/soft/W888888T', {})).json).toMatchObject({ ok: true, date: DAY });
    const c3 = await h.connect();
    expect((await c3.logonAndWait('W888888T', ['729900'], 0, 'soft')).ok).toBe(true);
    expect((await h.admin('GET', '/stations/W888888T')).json.lastLogon.auth).toBe('soft');
  });

  it('closes a connection whose first message is not a Logon', async () => {
    const c = await h.connect();
    c.order(makeOrder(DAY));
    expect((await c.next(MessageType.LogonAnswer)).body).toMatchObject({ ok: false, code: 'PROTOCOL' });
    await c.waitClosed();
  });
});
