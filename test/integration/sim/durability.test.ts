import type { ChildProcess } from 'node:child_process';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MessageType } from '../../../appliance/src/link/messages.js';
import { cstDate } from '../../../appliance/src/shared/index.js';
import { STATE_FILE } from '../../../appliance/src/sim/index.js';
import { TestClient, makeOrder } from './client.js';
import { makeTestPki, type TestPki } from './certs.js';
import { DAY, eventually, SimHarness, simIni } from './harness.js';
import { spawnTracked } from '../../helpers/leftovers.js';

let pki: TestPki;

beforeAll(async () => {
  pki = await makeTestPki(['W888888T']);
});
afterAll(async () => {
  await rm(pki.dir, { recursive: true, force: true });
});

describe('state survives a restart', () => {
  it('stop/start: returns resent with the same HBXH, duplicates still caught, state kept', async () => {
    const h = await SimHarness.start(pki, { fillRule: 'confirm' });
    try {
      const c = await h.logon();
      const a = makeOrder(DAY, { LSH: '501' });
      const b = makeOrder(DAY, { LSH: '502' });
      c.order(a);
      c.order(b);
      const before = await c.returns(2);
      await h.admin('POST', '/securities/430009/suspend');
      await h.admin('POST', '/soft/W888888T', {});
      await h.admin('POST', '/market', { state: 'BREAK' });
      c.send({ type: MessageType.ReturnAck, body: { HBXH: 2 } });
      await c.next(MessageType.MarketState);
      await eventually(async () => (await h.admin('GET', '/stations/W888888T')).json.lastAcked === 2);

      await h.restart();

      const again = await h.connect();
      const answer = await again.logonAndWait('W888888T', ['729900'], 0, 'soft');
      expect(answer).toMatchObject({ ok: true, marketState: 'BREAK' });
      expect(await again.returns(2)).toEqual(before);
      again.order(a, true);
      expect((await again.next(MessageType.OrderAnswer)).body.status).toBe('duplicate');
      again.order(b, false);
      expect((await again.returns(1))[0]).toMatchObject({ HBXH: 3, HBLB: '1', CWDM: 'E001' });
      again.order(makeOrder(DAY, { ZQDM: '430009' }));
      expect((await again.returns(1))[0]).toMatchObject({ HBXH: 4, CWDM: 'E002' });
      again.order(makeOrder(DAY, { YWLB: 'CX', CDLSH: '501', WTSL: 0 }));
      expect((await again.returns(1))[0]).toMatchObject({ HBXH: 5, HBLB: '3', LSH: '501', CJSL: a.WTSL });
      expect((await h.admin('GET', '/stations/W888888T')).json).toMatchObject({
        ordersTaken: 5,
        duplicatesDropped: 1,
        rejected: 2,
        returns: 5,
        lastAcked: 2,
      });
    } finally {
      await h.stop();
    }
  });

  it('a torn last line of the state log is ignored', async () => {
    const h = await SimHarness.start(pki);
    try {
      const c = await h.logon();
      c.order(makeOrder(DAY, { LSH: '601' }));
      await c.returns(2);
      await c.close();
      await h.sim.stop();
      await appendFile(join(h.config.stateDir, STATE_FILE), '{"k":"o","st":"W888888T","d":"2026112');
      await h.restart();
      const again = await h.connect();
      await again.logonAndWait('W888888T', ['729900'], 1);
      expect((await again.returns(1))[0]).toMatchObject({ HBXH: 2, LSH: '601', HBLB: '2' });
    } finally {
      await h.stop();
    }
  });
});

/** Start the simulator as its own process; resolves with its ports once it listens. */
function spawnSim(
  ini: string,
): Promise<{ child: ChildProcess; port: number; adminPort: number; out: string[] }> {
  const child = spawnTracked(
    process.execPath,
    ['node_modules/vite-node/vite-node.mjs', 'test/integration/sim/run-sim.ts', ini],
    {
      cwd: process.cwd(),
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const out: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`simulator did not start: ${out.join('')}`)), 45_000);
    const onData = (chunk: Buffer): void => {
      out.push(chunk.toString('utf8'));
      const m = /listening on [^:]+:(\d+), admin on [^:]+:(\d+)/.exec(out.join(''));
      if (m) {
        clearTimeout(timer);
        resolve({ child, port: Number(m[1]), adminPort: Number(m[2]), out });
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (chunk: Buffer) => out.push(chunk.toString('utf8')));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`simulator exited with ${code}: ${out.join('')}`));
    });
  });
}

describe('kill -9', () => {
  it('loses nothing that was answered', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sim-kill-'));
    const ini = join(dir, 'sim.ini');
    await writeFile(ini, simIni(pki, { fillRule: 'full' }));
    const today = cstDate(Date.now());
    const files = pki.clients.get('W888888T')!;
    let sim = await spawnSim(ini);
    try {
      const c = await TestClient.connect({ port: sim.port, ca: pki.ca, ...files });
      expect((await c.logonAndWait('W888888T', ['729900'])).ok).toBe(true);
      const n = 500;
      for (let i = 1; i <= n; i++) c.order(makeOrder(today, { LSH: String(7000 + i) }));
      const answered = await c.take(MessageType.OrderAnswer, n, 30_000);
      const before = await c.returns(2 * n, 30_000);
      expect(answered.every((a) => a.body.status === 'taken')).toBe(true);
      sim.child.kill('SIGKILL');
      await c.waitClosed();

      sim = await spawnSim(ini);
      const again = await TestClient.connect({ port: sim.port, ca: pki.ca, ...files });
      expect((await again.logonAndWait('W888888T', ['729900'], 0)).ok).toBe(true);
      expect(await again.returns(2 * n, 30_000)).toEqual(before);
      again.order(makeOrder(today, { LSH: '7001' }), true);
      expect((await again.next(MessageType.OrderAnswer)).body.status).toBe('duplicate');
      await again.close();
    } finally {
      sim.child.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
