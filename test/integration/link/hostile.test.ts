import { rm } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  FileTlsCredentials,
  LinkClient,
  type LinkLogLine,
  type OrderAnswerBody,
} from '../../../appliance/src/link/index.js';
import type { LinkSettings, ServerAddress } from '../../../appliance/src/config/index.js';
import { makeTestPki, type TestPki } from '../sim/certs.js';
import { order } from '../../unit/link/fixtures.js';
import { HostileStation, type HostileOptions } from './hostile.js';

/**
 * The link against main stations that stall, drip, shout or quit: real TLS on loopback, the
 * gateway's LinkClient, short link timings so each case takes about a second.
 */
const FAST: LinkSettings = {
  heartbeatMs: 300,
  silenceMs: 1_200,
  connectTimeoutMs: 3_000,
  backoffInitialMs: 20,
  backoffMaxMs: 100,
  primaryRetryS: 300,
  answerTimeoutMs: 1_000,
};

let pki: TestPki;
const stations: HostileStation[] = [];
const clients: LinkClient[] = [];

async function station(opts: HostileOptions): Promise<HostileStation> {
  const st = await new HostileStation(pki, opts).start();
  stations.push(st);
  return st;
}

function client(servers: ServerAddress[], logs: LinkLogLine[], link: Partial<LinkSettings> = {}): LinkClient {
  const id = pki.clients.get('W888888T')!;
  const c = new LinkClient({
    station: 'W888888T',
    units: ['729900'],
    auth: 'file',
    servers,
    link: { ...FAST, ...link },
    serverName: 'localhost',
    credentials: new FileTlsCredentials(pki.ca, id.cert, id.key),
    random: () => 0.5,
    lastReturnSeq: () => 0,
    tradingDate: () => '20260302',
    sendBlockWarnMs: 15_000,
  });
  c.on('log', (l) => logs.push(l));
  clients.push(c);
  return c;
}

/** Resolves at the first 'up' on `server`. */
function upOn(c: LinkClient, server: ServerAddress): Promise<void> {
  return new Promise((resolve) => {
    const on = (info: { server: ServerAddress }): void => {
      if (info.server.port !== server.port) return;
      c.off('up', on);
      resolve();
    };
    c.on('up', on);
  });
}

/**
 * A client on two stations, the `hostile` one first and a normal one second, started and up on
 * the hostile one; `movedOn` resolves when it is up on the second.
 */
async function upOnHostile(hostile: HostileOptions): Promise<{
  bad: HostileStation;
  good: HostileStation;
  c: LinkClient;
  logs: LinkLogLine[];
  movedOn: Promise<void>;
}> {
  const bad = await station(hostile);
  const good = await station({ name: 'good', behaviour: 'normal' });
  const logs: LinkLogLine[] = [];
  const c = client([bad.address, good.address], logs);
  const first = upOn(c, bad.address);
  const movedOn = upOn(c, good.address);
  c.start();
  await first;
  return { bad, good, c, logs, movedOn };
}

describe('link against a hostile main station (real TLS on loopback)', () => {
  beforeAll(async () => {
    pki = await makeTestPki(['W888888T']);
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.stop()));
    await Promise.all(stations.splice(0).map((s) => s.close()));
  });

  afterAll(async () => {
    await rm(pki.dir, { recursive: true, force: true });
  });

  it(
    'gives up a server that announces a frame and drips it, and moves to the next',
    { timeout: 15_000 },
    async () => {
      const { logs, movedOn } = await upOnHostile({ name: 'drip', behaviour: 'drip', dripMs: 100 });
      const upAt = Date.now();
      await movedOn; // today: never - each dripped byte reset the silence timer
      expect(Date.now() - upAt).toBeGreaterThanOrEqual(FAST.silenceMs - 50);
      const nq321 = logs.find((l) => l.code === 'NQ321');
      expect(nq321?.text).toMatch(/主站数据包 1 秒未收完整: 包头宣称 \d+ 字节, 只收到 \d+ 字节/);
      expect(logs.some((l) => l.code === 'NQ303')).toBe(true);
    },
  );

  it(
    'refuses a header announcing 1 MiB at once (NQ390) and moves to the next server',
    { timeout: 15_000 },
    async () => {
      const big = await station({ name: 'big', behaviour: 'big-frame' });
      const good = await station({ name: 'good', behaviour: 'normal' });
      const logs: LinkLogLine[] = [];
      const c = client([big.address, good.address], logs);
      const second = upOn(c, good.address);
      c.start();
      await second;
      const nq390 = logs.find((l) => l.code === 'NQ390');
      expect(nq390?.text).toBe('body length 1048576 exceeds 65536');
      expect(logs.some((l) => l.code === 'NQ321')).toBe(false); // refused at the header, not timed out
    },
  );

  it(
    'raises NQ320 when orders go unanswered under heartbeats, moves on, and the resend is answered',
    { timeout: 15_000 },
    async () => {
      const up = await upOnHostile({ name: 'mute', behaviour: 'mute-orders', heartbeatMs: 100 });
      const { bad: mute, good, c, logs } = up;
      const orders = [7, 8, 9].map((n) => ({ body: order(String(n)), possDup: false }));
      expect(c.sendOrders(orders)).toBe(true);
      const sentAt = Date.now();
      await up.movedOn; // today: never - heartbeats kept the link 正常
      expect(Date.now() - sentAt).toBeGreaterThanOrEqual(FAST.answerTimeoutMs - 50);
      const nq320 = logs.find((l) => l.code === 'NQ320');
      expect(nq320?.text).toContain('3 笔未获应答, 最早为委托第 7 笔');
      expect(mute.orders.map((o) => o.body.LSH)).toEqual(['7', '8', '9']);
      // What the gateway's resend path does after the logon: the same orders as possible duplicates.
      const got: OrderAnswerBody[] = [];
      const answered = new Promise<void>((resolve) =>
        c.on('orderAnswers', (batch) => {
          got.push(...batch);
          if (got.length >= 3) resolve();
        }),
      );
      expect(c.sendOrders(orders.map((o) => ({ ...o, possDup: true })))).toBe(true);
      await answered;
      expect(got.map((a) => a.LSH)).toEqual(['7', '8', '9']);
      expect(good.orders.every((o) => o.possDup)).toBe(true);
    },
  );

  it('backs off between logons that the main station quits at once', { timeout: 15_000 }, async () => {
    const quitter = await station({ name: 'quitter', behaviour: 'quit' });
    const logs: LinkLogLine[] = [];
    // random 0.5: waits of 200, 400, 800 ms before logons 2, 3 and 4 (today 100 ms each).
    const c = client([quitter.address], logs, { backoffInitialMs: 200, backoffMaxMs: 10_000 });
    c.start();
    await quitter.until(() => quitter.logons.length >= 4);
    const [first, , , fourth] = quitter.logons;
    expect(fourth! - first!).toBeGreaterThanOrEqual(200 + 400 + 800);
    expect(logs.filter((l) => l.code === 'NQ304').length).toBeGreaterThanOrEqual(3);
  });
});
