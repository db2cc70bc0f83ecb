import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chmodSync, readFileSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { readOrderFile } from '../../../appliance/src/dbf/index.js';
import { readAuditLog, type Alert, type EventPage } from '../../../appliance/src/ops/index.js';
import { makeLab, startGateway } from '../../helpers/lab.js';
import { runNqgw, waitUntil } from '../../helpers/process.js';
import { startOpsLab, type OpsLab } from './ops-lab.js';

let t: OpsLab;
beforeAll(async () => {
  t = await startOpsLab();
});
afterAll(async () => {
  await t?.stop();
});

const status = async (): Promise<Record<string, unknown>> => (await t.api('/api/status')).body;
const audit = () => readAuditLog(path.join(t.lab.stateDir, 'audit.log'));

describe('ops API against a real nqgw run + nqgw sim lab', () => {
  it('answers /healthz and /readyz without a token and refuses everything else without it', async () => {
    expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${t.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ready: true, reasons: [] });
    for (const route of ['/api/status', '/api/alerts', '/api/events', '/metrics', '/']) {
      expect((await fetch(`${t.url}${route}`)).status, route).toBe(401);
      const wrong = await fetch(`${t.url}${route}`, {
        headers: { authorization: 'Bearer not-the-token-at-all' },
      });
      expect(wrong.status, route).toBe(401);
    }
    for (const action of ['pause', 'reconnect', 'switch', 'stop']) {
      expect((await fetch(`${t.url}/api/control/${action}`, { method: 'POST' })).status).toBe(401);
    }
    expect(audit()).toEqual([]);
    expect((await status())['holds']).toEqual([]);
  });

  it('serves the vendor screen as /api/status, with the server in use, the key and log shipping', async () => {
    const s = await status();
    expect(s).toMatchObject({
      running: true,
      station: t.lab.station,
      units: t.lab.units,
      linkState: '正常',
      serverNumber: 1,
      token: { mode: 'file', state: 'file-key' },
      logShipping: { state: 'local' }, // the lab's [logs] keeps segments locally, no object storage
    });
    expect(s['server']).toMatch(/^server1 127\.0\.0\.1:/);
  });

  it('pause holds orders in NQWT.DBF (CLBZ 0), resume sends them; both audited', async () => {
    const paused = await t.api('/api/control/pause', { method: 'POST', operator: 'alice' });
    expect(paused.status).toBe(200);
    expect((await runNqgw(['feed', '--config', t.lab.twIni, '--count', '5'])).code).toBe(0);
    await waitUntil(async () => (await status())['pending'] === 5, 'status shows 5 pending');
    await new Promise((r) => setTimeout(r, 1000));
    expect((await t.admin.station(t.lab.station)).ordersTaken).toBe(0);
    expect((await readOrderFile(t.lab.orders)).map((o) => o.CLBZ)).toEqual(['0', '0', '0', '0', '0']);
    const alerts = (await t.api<{ active: Alert[] }>('/api/alerts')).body.active;
    expect(alerts.find((a) => a.code === 'ORDERS_HELD')).toMatchObject({ words: '暂停发送: operator' });
    expect((await fetch(`${t.url}/readyz`)).status).toBe(503);

    expect((await t.api('/api/control/resume', { method: 'POST', operator: 'alice' })).status).toBe(200);
    await waitUntil(
      async () => (await t.admin.station(t.lab.station)).ordersTaken === 5,
      'sim took 5 orders',
    );
    await waitUntil(async () => (await readOrderFile(t.lab.orders)).every((o) => o.CLBZ === '1'), 'CLBZ=1');
    expect(audit().map((e) => [e.action, e.result, e.operator, e.source])).toEqual([
      ['pause', 'ok', 'alice', '127.0.0.1'],
      ['resume', 'ok', 'alice', '127.0.0.1'],
    ]);
  });

  it('switch changes the server in use, refuses a server tw.ini lacks; both audited', async () => {
    const bad = await t.api('/api/control/switch', {
      method: 'POST',
      body: JSON.stringify({ server: 9 }),
      operator: 'bob',
    });
    expect(bad.status).toBe(400);
    const ok = await t.api('/api/control/switch', {
      method: 'POST',
      body: JSON.stringify({ server: 2 }),
      operator: 'bob',
    });
    expect(ok.status).toBe(200);
    await waitUntil(async () => {
      const s = await status();
      return s['linkState'] === '正常' && s['serverNumber'] === 2 && String(s['server']).startsWith('福田 ');
    }, 'linked to server2 (福田)');
    expect(
      audit()
        .slice(-2)
        .map((e) => [e.action, e.result, e.operator, e.args]),
    ).toEqual([
      ['switch', 'refused', 'bob', undefined],
      ['switch', 'ok', 'bob', { server: 2 }],
    ]);
  });

  it('reconnect drops the link and logs on again, counted in /metrics; audited', async () => {
    const before = await t.api<EventPage>('/api/events?limit=1');
    const res = await t.api('/api/control/reconnect', { method: 'POST', operator: 'carol' });
    expect(res.status).toBe(200);
    await waitUntil(async () => {
      const page = await t.api<EventPage>(`/api/events?since=${before.body.next}`);
      return page.body.lines.some((l) => l.code === 'NQ302');
    }, 'a new logon after the reconnect');
    await waitUntil(async () => (await status())['linkState'] === '正常', 'link up again');
    expect(audit().at(-1)).toMatchObject({ action: 'reconnect', result: 'ok', operator: 'carol' });
    const metrics = (await t.api<string>('/metrics')).body;
    const reconnects = Number(/^nqgw_link_reconnects_total (\d+)/m.exec(metrics)?.[1]);
    expect(reconnects).toBeGreaterThanOrEqual(2); // the switch and the reconnect
    expect(metrics).toMatch(/^nqgw_orders_total\{outcome="sent"\} 5$/m);
  });

  it('pages /api/events with since and limit', async () => {
    const first = (await t.api<EventPage>('/api/events?since=0&limit=3')).body;
    expect(first.lines.map((l) => l.id)).toEqual([1, 2, 3]);
    const second = (await t.api<EventPage>(`/api/events?since=${first.next}&limit=3`)).body;
    expect(second.lines[0]?.id).toBe(4);
    // The vendor's first two lines: the gateway's name and version, then the welcome.
    expect(first.lines.slice(0, 2).map((l) => l.code)).toEqual(['NQ253', 'NQ207']);
  });

  it('/metrics passes promtool check metrics', async () => {
    const which = spawnSync('promtool', ['--version']);
    if (which.error)
      throw new Error('promtool is missing: run scripts/ci-deps/ops.sh (Debian package prometheus)');
    const metrics = (await t.api<string>('/metrics')).body;
    const check = spawnSync('promtool', ['check', 'metrics'], { input: metrics, encoding: 'utf8' });
    expect(check.stdout + check.stderr).toBe('');
    expect(check.status).toBe(0);
  });

  it('stop answers, then the gateway stops the way SIGTERM does; audited', async () => {
    const res = await t.api('/api/control/stop', { method: 'POST', operator: 'dave' });
    expect(res.status).toBe(200);
    expect(await t.gateway.exited).toBe(0);
    expect(audit().at(-1)).toMatchObject({
      action: 'stop',
      result: 'ok',
      operator: 'dave',
      source: '127.0.0.1',
    });
    const entry = audit().at(-1)!;
    expect(Date.parse(entry.time)).toBeGreaterThan(Date.now() - 60_000);
  });
});

describe('the API token file', () => {
  it('refuses to start when the token file is readable by group or others', async () => {
    const lab = await makeLab();
    chmodSync(lab.management.tokenFile, 0o640);
    const gateway = startGateway(lab);
    const code = await gateway.exited;
    expect(code).toBe(3);
    expect(gateway.output).toContain('[NQ961]');
    expect(gateway.output).toMatch(/readable by group or others \(mode 0640\); refusing to start the API/);
    expect(gateway.output).toContain(`chmod 600 ${lab.management.tokenFile}`);
  });

  it('creates a missing token file (0600) on first start and serves with it', async () => {
    const lab = await makeLab();
    rmSync(lab.management.tokenFile);
    const gateway = startGateway(lab);
    try {
      await gateway.waitFor(/已创建 API 令牌文件/);
      expect(statSync(lab.management.tokenFile).mode & 0o777).toBe(0o600);
      const token = readFileSync(lab.management.tokenFile, 'utf8').trim();
      await waitUntil(async () => (await fetch(`${lab.management.url}/healthz`)).ok, 'API up');
      const res = await fetch(`${lab.management.url}/api/status`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
    } finally {
      await gateway.stop();
    }
  });
});
