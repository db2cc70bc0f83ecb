import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { displayWidth } from '../../../appliance/src/cli/width.js';
import { ObjectStore } from '../../../appliance/src/logs/index.js';
import type { DailyReport } from '../../../appliance/src/report/index.js';
import { makeLab, setIni, simReady, startGateway, startLinked, startSim } from '../../helpers/lab.js';
import { REPO, runNqgw, waitUntil, type NqgwProcess } from '../../helpers/process.js';
import { LOG_BUCKET, S3RVER_KEY, describeEachStore } from '../../helpers/s3.js';
import { LoopbackSmtpServer } from '../../helpers/smtp.js';
import { SntpResponder } from '../clock/responder.js';
import { shippingLab } from '../logs/harness.js';

/**
 * `nqgw report daily` after a real day on the lab: the simulator as the main station, the gateway
 * from dist, orders fed as the counter would, a link outage, an operator pause, a clock that
 * drifts (a scripted SNTP server), alerts mailed to a real SMTP server on loopback and posted to
 * an SMS-gateway webhook. Every figure of the report is checked against what the simulator took
 * and answered, and the shipped report against the object store.
 */
const running: NqgwProcess[] = [];
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
  for (const c of closers.splice(0)) await c();
});

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

async function report(twIni: string, ...extra: string[]): Promise<{ code: number | null; output: string }> {
  return runNqgw(['report', 'daily', '--config', twIni, ...extra]);
}

/** The terminal column where a report row's value starts (after the label and its padding). */
function valueColumn(row: string): number {
  const chars = [...row];
  let col = 0;
  for (let i = 0; i < chars.length; i++) {
    if (col >= 20 && chars[i] !== ' ' && chars[i - 1] === ' ') return col;
    col += displayWidth(chars[i]!);
  }
  return -1;
}

function jsonOf(output: string): DailyReport {
  return JSON.parse(output.slice(output.indexOf('{'), output.lastIndexOf('}') + 1)) as DailyReport;
}

describe('nqgw report daily on a lab day', () => {
  it('says what was sent, answered, refused, switched, alerted, measured: equal to the simulator', async () => {
    const smtp = new LoopbackSmtpServer();
    await smtp.start();
    closers.push(() => smtp.stop());
    const posted: Record<string, string>[] = [];
    const hook = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        posted.push(JSON.parse(body) as Record<string, string>);
        res.end('{}');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise<void>((r) => hook.close(() => r())));
    const ntp = new SntpResponder({ offsetMs: 12 });
    await ntp.start();
    closers.push(() => ntp.stop());

    const lab = await makeLab();
    for (const [k, v] of Object.entries({
      servers: `127.0.0.1:${ntp.port}`,
      interval_s: '1',
      timeout_ms: '300',
      samples: '1',
      chrony: 'off',
    }))
      setIni(lab.twIni, 'clock', k, v);
    for (const [k, v] of Object.entries({
      webhook_url: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/sms`,
      webhook_template: path.join(REPO, 'appliance/data/alerts/webhook-generic.json'),
      mail_relay: `smtp://127.0.0.1:${smtp.port}`,
      mail_from: 'nqgw-lab@broker.example',
      mail_to: 'dr-duty@broker.example',
    }))
      setIni(lab.twIni, 'alerts', k, v);

    const { admin, gateway } = await startLinked(lab, running);
    expect((await runNqgw(['feed', '--config', lab.twIni, '--count', '12'])).code).toBe(0);
    await waitUntil(
      async () => (await admin.station(lab.station)).ordersTaken === 12,
      '12 orders taken',
      60_000,
    );

    // The clock drifts past warn (50 ms) and comes back.
    ntp.set({ offsetMs: 70 });
    await gateway.waitFor(/NQ450/, 60_000);
    ntp.set({ offsetMs: 5 });
    await gateway.waitFor(/NQ450[\s\S]*NQ452/, 60_000);

    // The main station goes away and comes back: LINK_DOWN raised (mailed), then cleared.
    const before = await admin.station(lab.station);
    await running[0]!.stop();
    // Down for longer than the 3 s grace: LINK_DOWN raised and mailed, before the station is back.
    await waitUntil(
      () => smtp.received.some((m) => m.subject.includes('严重告警 LINK_DOWN')),
      'the LINK_DOWN mail',
      60_000,
    );
    running.push(startSim(lab));
    const admin2 = await simReady(lab);
    await waitUntil(() => (gateway.output.match(/登录成功/g)?.length ?? 0) >= 2, 'the second logon', 60_000);
    await waitUntil(
      () => smtp.received.some((m) => /LINK_DOWN/.test(m.subject) && /解除/.test(m.subject)),
      'cleared mail',
      60_000,
    ).catch((err: Error) => {
      throw new Error(
        `${err.message}; mails: ${JSON.stringify(smtp.received.map((m) => m.subject))}\n${gateway.output.slice(-3000)}`,
      );
    });

    // Two-person duty: a pause and a resume, audited.
    for (const action of ['pause', 'resume'])
      expect(
        (await runNqgw([action, '--config', lab.twIni, '--operator', 'alice', '--checker', 'bob'])).code,
      ).toBe(0);
    expect((await runNqgw(['feed', '--config', lab.twIni, '--count', '3'])).code).toBe(0);
    await waitUntil(async () => {
      const s = await admin2.station(lab.station);
      return s.ordersTaken + before.ordersTaken >= 15 && s.lastAcked === s.returns;
    }, 'the last 3 orders taken and their returns written');
    const after = await admin2.station(lab.station);
    expect(await gateway.stop()).toBe(0);

    const res = await report(lab.twIni, '--json');
    expect(res.code, res.output).toBe(0);
    const r = jsonOf(res.output);
    // Sent and answered: what the simulator took and returned (it keeps the station's state in
    // sim-state across its restart, so its counts are the whole day's).
    expect(after.ordersTaken).toBe(15);
    expect(r.orders.sent).toBe(after.ordersTaken);
    expect(r.orders.unanswered).toBe(0);
    expect(r.orders.orderFile).toEqual({ records: 15, clbz0: 0, clbz1: 15, clbz2: 0 });
    expect(r.returns.total).toBe(after.returns);
    expect(r.returns.lastSeq).toBe(after.lastAcked);
    expect(r.returns.accepted + r.returns.rejected).toBe(15);
    expect(r.returns.rejected).toBe(after.rejected);
    expect(r.unsent.count).toBe(0);
    expect(r.link.logons).toBe(2);
    expect(Object.values(r.link.byServer)).toEqual([2]);
    expect(r.link.switches).toEqual([]);
    expect(r.link.events['NQ305'] ?? 0).toBeGreaterThanOrEqual(1);
    expect(
      r.link.operatorActions.map((a) => [a.action, a.operator.split('@')[0], a.checker, a.result]),
    ).toEqual([
      ['pause', 'alice', 'bob', 'ok'],
      ['resume', 'alice', 'bob', 'ok'],
    ]);
    expect(r.alerts.byCode['LINK_DOWN']).toEqual({ severity: 'critical', raised: 1, cleared: 1 });
    expect(r.alerts.byCode['CLOCK_WARN']).toMatchObject({ raised: 1, cleared: 1 });
    expect(r.alerts.byCode['ORDERS_HELD']).toMatchObject({ raised: 1, cleared: 1 });
    expect(r.clock.worstOffsetMs).toBeGreaterThan(60);
    // The responder's 70 ms, plus what a loaded machine adds to a loopback round trip's asymmetry.
    expect(r.clock.worstOffsetMs).toBeLessThan(150);
    expect(r.clock.measurements).toBeGreaterThanOrEqual(3);
    // NQ450 once (to warn); NQ452 back to ok, and at start when the first round finds it ok.
    expect(r.clock.stateChanges['NQ450']).toBe(1);
    expect(r.clock.stateChanges['NQ452']).toBeGreaterThanOrEqual(1);
    // The same config hash as `nqgw version` (what `nqgw fleet` compares between replicas).
    const version = await runNqgw(['version', '--json', '--config', lab.twIni]);
    const { configHash } = JSON.parse(version.output) as { configHash: string };
    expect(r.config).toEqual({ file: lab.twIni, hash: configHash, sha256: sha256(readFileSync(lab.twIni)) });
    expect(r.software).toMatch(/^nqgw \d+\.\d+\.\d+$/);
    expect(r.shipping.configured).toBe(false);
    expect(r.soft).toBeNull();

    // The channels: the LINK_DOWN mail and its clear; the webhook in the generic template's shape.
    const subjects = smtp.received.map((m) => m.subject);
    expect(subjects.filter((x) => x.startsWith(`[nqgw ${lab.station}] 严重告警 LINK_DOWN: `))).toHaveLength(
      1,
    );
    expect(
      subjects.filter((x) => x.startsWith(`[nqgw ${lab.station}] 严重告警解除 LINK_DOWN: `)),
    ).toHaveLength(1);
    const down = posted.find((p) => p['code'] === 'LINK_DOWN' && p['event'] === 'raised');
    expect(down).toMatchObject({ source: 'nqgw', station: lab.station, severity: 'critical' });
    expect(down!['text']).toMatch(/^【严重】告警 W888888T@\S+ LINK_DOWN: 通信状态: /);

    // The printed report: the same figures; every value starts at terminal column 20 whatever
    // the Chinese label before it (two columns a character).
    const text = await report(lab.twIni);
    expect(text.code).toBe(0);
    expect(text.output).toContain('已发委托          15');
    const rows = text.output.split('\n').filter((l) => /^ {2}\S/.test(l));
    expect(rows.length).toBeGreaterThan(15);
    for (const row of rows) expect(valueColumn(row), row).toBe(20);
    process.stdout.write(`DAILY REPORT SAMPLE\n${text.output}`);
  }, 240_000);

  it('refuses a bad date and --ship without object storage (exit 2, one line)', async () => {
    const lab = await makeLab();
    const bad = await report(lab.twIni, '--date', '2026-12-02');
    expect(bad.code).toBe(2);
    expect(bad.output).toMatch(/YYYYMMDD/);
    const ship = await report(lab.twIni, '--ship');
    expect(ship.code).toBe(2);
    expect(ship.output).toMatch(/\[NQ914\]/);
    expect(ship.output).not.toMatch(/\n\s+at /);
  });
});

describeEachStore((s3) => {
  it("ships the report beside the day's archive, JSON and text, as printed", async () => {
    const lab = await shippingLab(s3, 'it-report');
    running.push(startSim(lab));
    const admin = await simReady(lab);
    const gateway = startGateway(lab);
    running.push(gateway);
    await gateway.waitFor(/小站端与服务器连接成功/);
    expect((await runNqgw(['feed', '--config', lab.twIni, '--count', '4'])).code).toBe(0);
    await waitUntil(async () => (await admin.station(lab.station)).ordersTaken === 4, 'orders taken');
    expect(await gateway.stop()).toBe(0);
    const archived = await runNqgw(['archive', '--config', lab.twIni, '--json']);
    expect(archived.code, archived.output).toBe(0);
    const manifestKey = (
      JSON.parse(archived.output.slice(archived.output.indexOf('{'))) as { manifestKey: string }
    ).manifestKey;

    const res = await report(lab.twIni, '--json', '--ship');
    expect(res.code, res.output).toBe(0);
    const r = jsonOf(res.output.slice(0, res.output.lastIndexOf('shipped:')));
    expect(r.orders.sent).toBe(4);
    expect(r.shipping.configured).toBe(true);
    expect(r.shipping.archives).toHaveLength(1);
    const keys = [...res.output.matchAll(/shipped: (\S+)/g)].map((m) => m[1]!);
    expect(keys).toHaveLength(2);
    const dayPrefix = manifestKey.slice(
      0,
      manifestKey.indexOf(`/archive/${r.date}/`) + `/archive/${r.date}/`.length,
    );
    for (const k of keys) expect(k.startsWith(dayPrefix), k).toBe(true);
    const store = new ObjectStore({
      endpoint: s3.directEndpoint,
      bucket: LOG_BUCKET,
      prefix: '',
      region: 'us-east-1',
      credentials: { accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_KEY },
    });
    try {
      expect(JSON.parse((await store.get(keys[0]!)).toString('utf8'))).toEqual(r);
      const txt = (await store.get(keys[1]!)).toString('utf8');
      expect(txt).toContain(`交易日 ${r.date}`);
      expect(txt).toContain('已发委托          4');
    } finally {
      store.destroy();
    }
  }, 90_000);
});
