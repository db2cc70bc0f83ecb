import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../appliance/src/config/index.js';
import { OrderFileAppender, readOrderFile, readReturnFile } from '../../../appliance/src/dbf/index.js';
import { SoftEncryption } from '../../../appliance/src/ekey/index.js';
import { Gateway } from '../../../appliance/src/gateway/index.js';
import { makeOrder, type LabDescription } from '../../../appliance/src/lab/index.js';
import { loadSimConfig, MainStationSimulator, SOFT_REFUSED } from '../../../appliance/src/sim/index.js';
import { SOFT_IN_USE_MESSAGE } from '../../../appliance/src/ekey/index.js';
import type { Clock } from '../../../appliance/src/shared/index.js';
import { makeLab, setIni, SimAdmin } from '../../helpers/lab.js';
import { waitUntil } from '../../helpers/process.js';
import { expectExactlyOnce } from '../../helpers/checks.js';
import { certificate, rsaKey } from './pki.js';

/**
 * Soft encryption (软加密) end to end: the Gateway and the main-station simulator in this process,
 * real TLS on loopback, real timers, and ONE shifted clock for both, so that "today" is a known
 * trading day (Monday 2025-09-29) whatever day the test runs. The ledger rules (window, daily
 * confirmation) are enforced by the gateway's SoftTlsCredentials before every connect; the
 * "enabled for today" rule by the simulator at logon.
 */

const MONDAY = '2025-09-29T10:00:00+08:00';
/** 调休上班日: offices work, the exchanges do not. A window covering it still may not be used. */
const ADJUSTED_SATURDAY = '2025-10-11T10:00:00+08:00';

/** Real time moving forward, shifted so that it starts at `at` (CST). */
function shiftedClock(at: string): Clock {
  const offset = Date.parse(at) - Date.now();
  return { now: () => Date.now() + offset };
}

interface Rig {
  lab: LabDescription;
  clock: Clock;
  sim: MainStationSimulator;
  simLog: string[];
  admin: SimAdmin;
  soft: SoftEncryption;
  gateway: Gateway | null;
  startGateway(): Promise<Gateway>;
  /** Lines of state_dir/gateway.log (the operator's log, "HH:MM:SS [CODE] text"). */
  gatewayLog(): string[];
}

const rigs: Rig[] = [];
afterEach(async () => {
  for (const rig of rigs.splice(0)) {
    await rig.gateway?.stop();
    await rig.sim.stop();
    rmSync(rig.lab.dir, { recursive: true, force: true });
  }
});

/**
 * The lab (initLab) with its PKI re-issued as RSA certificates valid on the shifted dates: the
 * soft credentials check the certificate with node-forge (RSA only) against the shifted clock, and
 * initLab's EC certificates start at the real now, i.e. after 2025-09-29.
 */
function reissuePki(lab: LabDescription): void {
  const from = new Date('2025-01-01T00:00:00Z');
  const to = new Date('2035-12-31T00:00:00Z');
  const caKey = rsaKey();
  const ca = certificate({ cn: 'nqgw soft lab CA', key: caKey, ca: true, notBefore: from, notAfter: to });
  const serverKey = rsaKey();
  const server = certificate({
    cn: lab.serverName,
    key: serverKey,
    issuer: { cert: ca.cert, key: caKey },
    dns: lab.serverName,
    notBefore: from,
    notAfter: to,
  });
  const stationKey = rsaKey();
  const station = certificate({
    cn: lab.station,
    key: stationKey,
    issuer: { cert: ca.cert, key: caKey },
    notBefore: from,
    notAfter: to,
  });
  writeFileSync(lab.pki.caCert, ca.pem);
  writeFileSync(lab.pki.serverCert, server.pem);
  writeFileSync(lab.pki.serverKey, serverKey.privatePem, { mode: 0o600 });
  writeFileSync(lab.pki.stationCert, station.pem);
  writeFileSync(lab.pki.stationKey, stationKey.privatePem, { mode: 0o600 });
}

async function rig(at: string = MONDAY): Promise<Rig> {
  const lab = await makeLab();
  reissuePki(lab);
  // The soft-encryption PKCS#12 as an operator makes it from the station's certificate and key
  // (OpenSSL 3: AES-256/PBKDF2), with a passphrase file; both 0600 or the credentials refuse.
  const p12 = path.join(lab.dir, 'soft.p12');
  const pass = path.join(lab.dir, 'soft.pass');
  writeFileSync(pass, 'soft-secret\n', { mode: 0o600 });
  execFileSync('openssl', [
    'pkcs12',
    '-export',
    '-in',
    lab.pki.stationCert,
    '-inkey',
    lab.pki.stationKey,
    '-certfile',
    lab.pki.caCert,
    '-out',
    p12,
    '-passout',
    `file:${pass}`,
  ]);
  execFileSync('chmod', ['600', p12]);
  setIni(lab.twIni, 'tls', 'mode', 'soft');
  setIni(lab.twIni, 'soft', 'pkcs12', 'soft.p12');
  setIni(lab.twIni, 'soft', 'pkcs12_passphrase_file', 'soft.pass');
  // Fast link: retries every 100-300 ms, heartbeats every second (the sim's too, below our silence).
  setIni(lab.twIni, 'link', 'heartbeat_ms', '1000');
  setIni(lab.twIni, 'link', 'silence_ms', '3000');
  setIni(lab.twIni, 'link', 'backoff_initial_ms', '100');
  setIni(lab.twIni, 'link', 'backoff_max_ms', '300');
  setIni(lab.simIni, 'server', 'heartbeat_s', '1');

  const clock = shiftedClock(at);
  const simLog: string[] = [];
  const sim = new MainStationSimulator(await loadSimConfig(lab.simIni), {
    clock,
    log: (line) => void simLog.push(line),
  });
  await sim.start();
  const config = loadConfig(lab.twIni);
  const r: Rig = {
    lab,
    clock,
    sim,
    simLog,
    admin: new SimAdmin(lab.sim.adminUrl),
    soft: SoftEncryption.fromConfig(config, clock),
    gateway: null,
    async startGateway() {
      const g = new Gateway(loadConfig(lab.twIni), { clock });
      await g.start();
      r.gateway = g;
      return g;
    },
    gatewayLog() {
      try {
        return readFileSync(path.join(lab.stateDir, 'gateway.log'), 'utf8').split('\n');
      } catch {
        return [];
      }
    },
  };
  rigs.push(r);
  return r;
}

const count = (lines: string[], re: RegExp): number => lines.filter((l) => re.test(l)).length;

/** One valid order of today (the shifted today) for unit 729900, appended as the counter program does. */
async function appendOrder(r: Rig, serial: number): Promise<void> {
  const appender = await OrderFileAppender.open(r.lab.orders);
  await appender.append([makeOrder('729900', serial, r.clock.now())]);
  await appender.close();
}

describe('gateway in soft-encryption mode against the simulator', () => {
  it('(a) window applied but today not confirmed: no logon, NQ165 on the operator log', async () => {
    const r = await rig();
    r.soft.apply({ start: '2025-09-29', end: '2025-10-10', reason: 'EKey 损坏', operator: 'li' });
    await r.admin.post(`/soft/${r.lab.station}`); // even with the main station ready …
    await appendOrder(r, 1);
    const g = await r.startGateway();
    // … the gateway keeps refusing locally, attempt after attempt (three to show it retries).
    await waitUntil(() => count(r.gatewayLog(), /\[NQ165\]/) >= 3, 'three NQ165 refusals', 10_000);
    const lines = r.gatewayLog().filter((l) => l.includes('[NQ165]'));
    expect(lines[0]).toContain('今天 2025-09-29 尚未确认已向深证通申请开通软加密');
    expect(g.log.recent().some((l) => l.code === 'NQ165' && l.level === 'error')).toBe(true);
    // Nothing reached the main station: not a logon, not even a TLS connection.
    expect(r.simLog.filter((l) => /logon|TLS handshake/.test(l))).toEqual([]);
    const report = await r.admin.station(r.lab.station);
    expect(report).toMatchObject({ connected: false, ordersTaken: 0, lastLogon: null });
    expect((await readOrderFile(r.lab.orders)).map((o) => o.CLBZ)).toEqual(['0']);
    expect(g.status()).toMatchObject({ sent: 0, linkState: expect.not.stringMatching(/正常/) });
    // Soft mode not usable today: the status has no window (nqgw_token_present 0, TOKEN_MISSING).
    expect(g.status()).toMatchObject({ tlsMode: 'soft', soft: null });
  });

  it('(b) confirmed but the main station not enabled for today: refused with 软加密未开通, retried, no order carried', async () => {
    const r = await rig();
    r.soft.apply({ start: '2025-09-29', end: '2025-10-10', reason: 'EKey 损坏', operator: 'li' });
    r.soft.confirmToday('wang');
    await appendOrder(r, 1);
    const g = await r.startGateway();
    await waitUntil(
      () => count(r.simLog, new RegExp(`logon refused: SOFT ${SOFT_REFUSED}`)) >= 3,
      'three soft refusals at the simulator',
      10_000,
    );
    expect(count(r.gatewayLog(), new RegExp(`主站拒绝登录: ${SOFT_REFUSED}`))).toBeGreaterThanOrEqual(2);
    // The refusal is the main station's: the ledger said yes, so no local refusal was logged.
    expect(count(r.gatewayLog(), /\[NQ16\d\]/)).toBe(0);
    const report = await r.admin.station(r.lab.station);
    expect(report).toMatchObject({ ordersTaken: 0, returns: 0, lastLogon: null });
    expect((await readOrderFile(r.lab.orders)).map((o) => o.CLBZ)).toEqual(['0']);
    expect(g.status().sent).toBe(0);
  });

  it('(c) once the main station enables today, the retrying gateway logs on with auth soft and carries one order exactly once', async () => {
    const r = await rig();
    r.soft.apply({ start: '2025-09-29', end: '2025-10-10', reason: 'EKey 损坏', operator: 'li' });
    r.soft.confirmToday('wang');
    await appendOrder(r, 1);
    const g = await r.startGateway();
    await waitUntil(() => r.simLog.some((l) => l.includes(SOFT_REFUSED)), 'a soft refusal first');

    // 深证通 turns soft encryption on for the day: the admin API's default date is the sim's today.
    const t0 = Date.now();
    expect(await r.admin.post(`/soft/${r.lab.station}`)).toEqual({
      ok: true,
      station: r.lab.station,
      date: '20250929',
    });
    await waitUntil(
      async () => (await r.admin.station(r.lab.station)).returns === 2,
      'confirmation and fill',
    );
    const loggedOnMs = Date.now() - t0;

    const report = await r.admin.get<{ lastLogon: { auth: string } | null; ordersTaken: number }>(
      `/stations/${r.lab.station}`,
    );
    expect(report.lastLogon?.auth).toBe('soft');
    expect(r.simLog.some((l) => /logon ok, auth soft/.test(l))).toBe(true);
    expect(await r.admin.orders(r.lab.station)).toEqual([
      { JYDY: '729900', LSH: '1', possDup: false, recNo: expect.any(Number) as number },
    ]);
    // The returns land in NQHB.DBF (fill_rule=full: a confirmation and a fill), dated today.
    await waitUntil(async () => (await readReturnFile(r.lab.returns)).length === 2, 'two rows in NQHB.DBF');
    const returns = await readReturnFile(r.lab.returns);
    expect(returns.map((x) => [x.LSH, x.HBRQ, x.HBXH])).toEqual([
      ['1', '20250929', 1],
      ['1', '20250929', 2],
    ]);
    await g.stop();
    r.gateway = null;
    await expectExactlyOnce(r.lab, r.admin, 1);
    // Within a few retry periods of the enable (backoff ≤ 300 ms), order and returns included.
    expect(loggedOnMs).toBeLessThan(5000);
  });

  it('(d) logs 小站使用软加密 (NQ104) when it logs on in soft mode', async () => {
    const r = await rig();
    r.soft.apply({ start: '2025-09-29', end: '2025-10-10', reason: 'EKey 损坏', operator: 'li' });
    r.soft.confirmToday('wang');
    await r.admin.post(`/soft/${r.lab.station}`);
    await r.startGateway();
    await waitUntil(async () => (await r.admin.station(r.lab.station)).connected, 'logged on');
    await waitUntil(
      () => r.gatewayLog().some((l) => l.includes(`[NQ104] ${SOFT_IN_USE_MESSAGE}`)),
      `[NQ104] ${SOFT_IN_USE_MESSAGE} on the operator log`,
      5000,
    );
    // Once per logon, right after the logon line (the window's day and what is left follow it).
    const lines = r.gatewayLog();
    const at = lines.findIndex((l) => l.includes('[NQ104]'));
    expect(count(lines, /\[NQ104\]/)).toBe(1);
    const up = lines.findIndex((l) => l.includes('登录成功'));
    expect(up).toBeGreaterThanOrEqual(0);
    expect(up).toBeLessThan(at);
    expect(lines[at]).toContain('第 1/4 个交易日, 剩余 3');
    // The status carries the window while soft logons are allowed today.
    expect(r.gateway?.status().soft).toEqual({
      window: '2025-09-29..2025-10-10',
      day: 1,
      of: 4,
      remaining: 3,
      alarm: null,
    });
  });

  it('on an adjusted working Saturday (调休上班日) inside the window the connect is refused locally (NQ164)', async () => {
    const r = await rig(ADJUSTED_SATURDAY);
    // Applied and confirmed on Monday 2025-09-29 for a window that spans the Saturday.
    const monday = SoftEncryption.fromConfig(loadConfig(r.lab.twIni), shiftedClock(MONDAY));
    monday.apply({ start: '2025-09-29', end: '2025-10-17', reason: 'EKey 损坏', operator: 'li' });
    monday.confirmToday('wang');
    await r.admin.post(`/soft/${r.lab.station}`); // the sim's today: 20251011
    await r.startGateway();
    await waitUntil(() => count(r.gatewayLog(), /\[NQ164\]/) >= 2, 'NQ164 refusals', 10_000);
    expect(r.gatewayLog().find((l) => l.includes('[NQ164]'))).toContain('今天 2025-10-11 不是交易日');
    expect(r.simLog.filter((l) => /logon|TLS handshake/.test(l))).toEqual([]);
  });
});
