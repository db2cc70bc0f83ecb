import { readFileSync, rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { LabDescription } from '../../../appliance/src/lab/index.js';
import type { Alert } from '../../../appliance/src/ops/index.js';
import { makeLab, setIni, startGateway } from '../../helpers/lab.js';
import { runNqgw, waitUntil, type NqgwProcess } from '../../helpers/process.js';
import { HostileStation, type HostileOptions } from './hostile.js';

/**
 * `nqgw run` (the real process, its ops API and its order path) against hostile main stations
 * over real TLS with the lab's certificates. What must hold: a stalled main station does not keep
 * the gateway ready, and orders it does not answer reach a server that does.
 */

interface Rig {
  lab: LabDescription;
  gateway: NqgwProcess;
  stations: HostileStation[];
}

const rigs: Rig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) {
    await r.gateway.stop('SIGKILL');
    await Promise.all(r.stations.map((s) => s.close()));
    rmSync(r.lab.dir, { recursive: true, force: true });
  }
});

async function rig(behaviours: Omit<HostileOptions, 'name'>[]): Promise<Rig> {
  const lab = await makeLab();
  const pki = { ca: lab.pki.caCert, serverCert: lab.pki.serverCert, serverKey: lab.pki.serverKey };
  const stations = await Promise.all(
    behaviours.map((b, i) => new HostileStation(pki, { ...b, name: `server${i + 1}` }).start()),
  );
  stations.forEach((s, i) => setIni(lab.twIni, 'servers', `server${i + 1}`, `127.0.0.1:${s.address.port}`));
  // Short link timings so each case takes seconds (the lower bounds tw.ini allows).
  setIni(lab.twIni, 'link', 'heartbeat_ms', '500');
  setIni(lab.twIni, 'link', 'silence_ms', '1500');
  setIni(lab.twIni, 'link', 'answer_timeout_ms', '1000');
  setIni(lab.twIni, 'link', 'backoff_initial_ms', '50');
  setIni(lab.twIni, 'link', 'backoff_max_ms', '200');
  const gateway = startGateway(lab);
  const r = { lab, gateway, stations };
  rigs.push(r);
  await waitUntil(async () => (await fetch(`${lab.management.url}/healthz`)).ok, 'ops API up');
  return r;
}

/** The gateway's operator log through the ops API, oldest first. */
async function events(r: Rig): Promise<{ code?: string; text: string }[]> {
  const token = readFileSync(r.lab.management.tokenFile, 'utf8').trim();
  const res = await fetch(`${r.lab.management.url}/api/events?since=0&limit=1000`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return ((await res.json()) as { lines: { code?: string; text: string }[] }).lines;
}

/** Waits for an operator log line with `code` whose text matches `re`. */
function line(r: Rig, code: string, re: RegExp): Promise<{ code?: string; text: string }> {
  return waitUntil(
    async () => (await events(r)).find((l) => l.code === code && re.test(l.text)),
    `${code} ${re}`,
  );
}

const readyz = async (r: Rig): Promise<{ status: number; reasons: string[] }> => {
  const res = await fetch(`${r.lab.management.url}/readyz`);
  return { status: res.status, reasons: ((await res.json()) as { reasons: string[] }).reasons };
};

describe('nqgw run against a hostile main station', () => {
  it(
    'is not ready for long when the main station drips a frame (was ready forever)',
    { timeout: 40_000 },
    async () => {
      const r = await rig([{ behaviour: 'drip', dripMs: 100 }]);
      await waitUntil(async () => (await readyz(r)).status === 200, 'ready while logged on');
      // Today the dripped bytes kept the link 正常 and /readyz at 200 for as long as the drip went on.
      const notReady = await waitUntil(
        async () => {
          const z = await readyz(r);
          return z.status === 503 ? z : null;
        },
        '/readyz 503 after silence_ms without a complete frame',
        10_000,
        20,
      );
      expect(notReady.reasons.some((x) => x.startsWith('link '))).toBe(true);
      await line(r, 'NQ321', /主站数据包 \d+ 秒未收完整: 包头宣称 \d+ 字节/);
    },
  );

  it(
    'is not ready while its only server heartbeats and leaves orders unanswered',
    { timeout: 40_000 },
    async () => {
      const r = await rig([{ behaviour: 'mute-orders', heartbeatMs: 200 }]);
      const [mute] = r.stations as [HostileStation];
      await waitUntil(async () => (await readyz(r)).status === 200, 'ready while logged on');
      expect((await runNqgw(['feed', '--config', r.lab.twIni, '--count', '2'])).code).toBe(0);
      await mute.until(() => mute.orders.length >= 2);
      // Logged on again to the same server (正常), orders resent, still unanswered: not ready, and
      // the reason says why. Today: ready all along, heartbeats kept the link 正常.
      const z = await waitUntil(async () => {
        const x = await readyz(r);
        return x.reasons.length === 1 && x.reasons[0]!.startsWith('link stalled: ') ? x : null;
      }, '/readyz: link stalled while logged on again');
      expect(z).toEqual({ status: 503, reasons: ['link stalled: 2 orders unanswered, oldest record 1'] });
      await mute.until(() => mute.orders.filter((o) => o.possDup).length >= 2); // the resend went out
    },
  );

  it(
    'moves orders the main station does not answer to the next server, as possible duplicates, with an alert',
    { timeout: 40_000 },
    async () => {
      const r = await rig([
        { behaviour: 'mute-orders', heartbeatMs: 200 },
        { behaviour: 'normal', heartbeatMs: 200 },
      ]);
      const [mute, good] = r.stations as [HostileStation, HostileStation];
      await mute.until(() => mute.logons.length >= 1);
      expect((await runNqgw(['feed', '--config', r.lab.twIni, '--count', '3'])).code).toBe(0);
      await mute.until(() => mute.orders.length >= 3);
      await good.until(() => good.orders.length >= 3); // today: never, heartbeats kept the mute one 正常
      expect(good.orders.map((o) => [o.body.recNo, o.possDup])).toEqual([
        [1, true],
        [2, true],
        [3, true],
      ]);
      await line(r, 'NQ320', /3 笔未获应答, 最早为委托第 1 笔/);
      const token = readFileSync(r.lab.management.tokenFile, 'utf8').trim();
      const alerts = await waitUntil(async () => {
        const res = await fetch(`${r.lab.management.url}/api/alerts`, {
          headers: { authorization: `Bearer ${token}` },
        });
        const body = (await res.json()) as { active: Alert[] };
        return body.active.find((a) => a.code === 'ORDERS_UNANSWERED');
      }, 'the ORDERS_UNANSWERED alert');
      expect(alerts).toMatchObject({ severity: 'critical', vendorCode: 'NQ320' });
      expect(alerts.words).toContain('最早为委托第 1 笔');
      await waitUntil(async () => (await readyz(r)).status === 200, 'ready again on the server that answers');
    },
  );
});
