import { afterEach, describe, expect, it } from 'vitest';
import { readFileSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import path from 'node:path';
import {
  ApiCertificateError,
  OpsApiError,
  OpsClient,
  OpsServer,
  Sessions,
  ensureApiCertificate,
  readAuditLog,
} from '../../../appliance/src/ops/index.js';
import type { TwConfig } from '../../../appliance/src/config/index.js';
import { pinnedRequest } from '../../helpers/https.js';
import { tempDir } from '../../helpers/tempdir.js';
import { FakeGateway, fakeConfig } from './fixtures.js';

const TOKEN = 'unit-test-token-0123456789';

const running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
});

function tlsConfig(dir: string): TwConfig {
  const config = fakeConfig(dir);
  config.management.tls = { cert: path.join(dir, 'api.crt'), key: path.join(dir, 'api.key') };
  return config;
}

async function startTls(): Promise<{ gw: FakeGateway; server: OpsServer; ca: string; dir: string }> {
  const dir = tempDir('nqgw-ops-tls-');
  const gw = new FakeGateway(tlsConfig(dir));
  const server = new OpsServer(gw, { token: TOKEN, onStop: () => undefined });
  await server.start();
  running.push(server);
  return { gw, server, dir, ca: readFileSync(path.join(dir, 'api.crt'), 'utf8') };
}

const request = pinnedRequest;

describe('the management listener over TLS (the appliance certificate)', () => {
  it('makes its certificate at first start (key 0600), serves HTTPS only, and keeps the pair after', async () => {
    const { server, gw, dir, ca } = await startTls();
    expect(server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(statSync(path.join(dir, 'api.key')).mode & 0o777).toBe(0o600);
    expect(server.certificate?.names).toEqual(expect.arrayContaining(['127.0.0.1', 'localhost']));
    expect(gw.log.recent().find((l) => l.code === 'NQ653')?.text).toContain(
      `SHA256 ${server.certificate!.fingerprint}`,
    );
    expect((await request(`${server.url}/healthz`, ca)).status).toBe(200);
    // Plain HTTP on the same port is not answered as HTTP, and an unpinned client refuses the cert.
    await expect(fetch(server.url.replace('https:', 'http:') + '/healthz')).rejects.toThrow();
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
    const again = ensureApiCertificate(path.join(dir, 'api.crt'), path.join(dir, 'api.key'), ['127.0.0.1']);
    expect(again).toMatchObject({ created: false, fingerprint: server.certificate!.fingerprint });
  });

  it('gives the page a Secure session cookie for the one-time ?token=, and the cookie works', async () => {
    const { server, ca } = await startTls();
    const login = await request(`${server.url}/?token=${TOKEN}`, ca);
    expect(login.status).toBe(303);
    const cookie = (login.headers['set-cookie'] as string[])[0]!;
    expect(cookie).toMatch(/^nqgw_session=[\w-]{43}; .*Secure; SameSite=Strict$/);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).not.toContain(TOKEN);
    const page = await request(`${server.url}/`, ca, { headers: { cookie: cookie.split(';')[0]! } });
    expect(page.status).toBe(200);
    expect(page.text).toContain('股转系统交易网关');
  });

  it('refuses a cross-origin lever, a form post and a cookie without Origin; the same origin works', async () => {
    const { server, gw, ca } = await startTls();
    const login = await request(`${server.url}/?token=${TOKEN}`, ca);
    const cookie = (login.headers['set-cookie'] as string[])[0]!.split(';')[0]!;
    const pause = (headers: Record<string, string>, body = '{}') =>
      request(`${server.url}/api/control/pause`, ca, {
        method: 'POST',
        headers: { cookie, ...headers },
        body,
      });
    const json = { 'content-type': 'application/json' };

    const cross = await pause({ ...json, origin: 'https://evil.example' });
    expect(cross.status).toBe(403);
    expect(JSON.parse(cross.text).error).toMatch(/^cross-origin control call refused: Origin https:\/\/evil/);
    // Another port of this host is another origin (SameSite would still send the cookie).
    const port = Number(new URL(server.url).port);
    expect((await pause({ ...json, origin: `https://127.0.0.1:${port + 1}` })).status).toBe(403);
    const form = await pause(
      { 'content-type': 'application/x-www-form-urlencoded', origin: server.url },
      'operator=x',
    );
    expect(form.status).toBe(415);
    expect((await pause({ 'content-type': 'text/plain', origin: server.url }, '{}')).status).toBe(415);
    expect((await pause({ ...json, 'sec-fetch-site': 'same-site', origin: server.url })).status).toBe(403);
    expect((await pause(json)).status).toBe(403); // the page's cookie with no Origin
    expect(gw.calls).toEqual([]);
    expect(readAuditLog(path.join(gw.config.files.stateDir, 'audit.log'))).toEqual([]);
    expect(gw.log.recent().filter((l) => l.code === 'NQ652')).toHaveLength(6);

    const ok = await pause({ ...json, origin: server.url, 'sec-fetch-site': 'same-origin' });
    expect(ok.status).toBe(200);
    expect(gw.calls).toEqual(['hold operator true']);
  });

  it('the nqgw client pins the certificate file: it talks to this server and refuses another', async () => {
    const { server, gw, dir } = await startTls();
    const config = gw.config;
    config.management.port = Number(new URL(server.url).port);
    writeFileSync(path.join(dir, 'token'), `${TOKEN}\n`, { mode: 0o600 });
    config.management.tokenFile = path.join(dir, 'token');
    const client = OpsClient.fromConfig(config, 'alice');
    expect(client.baseUrl).toBe(server.url);
    expect((await client.post<{ ok: boolean }>('/api/control/pause')).ok).toBe(true);
    expect(gw.calls).toEqual(['hold operator true']);

    const other = tempDir('nqgw-ops-tls-other-');
    ensureApiCertificate(path.join(other, 'api.crt'), path.join(other, 'api.key'), ['127.0.0.1']);
    config.management.tls = { cert: path.join(other, 'api.crt'), key: path.join(other, 'api.key') };
    const err = await OpsClient.fromConfig(config, 'alice')
      .get('/api/status')
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpsApiError);
    expect((err as OpsApiError).code).toBe('NQ964');
    expect((err as Error).message).toMatch(/self[- ]signed|certificate/i);
  });

  it('refuses a key file others can read, and half a pair', () => {
    const dir = tempDir('nqgw-ops-tls-bad-');
    const cert = path.join(dir, 'api.crt');
    const key = path.join(dir, 'api.key');
    ensureApiCertificate(cert, key, ['127.0.0.1']);
    chmodSync(key, 0o640);
    expect(() => ensureApiCertificate(cert, key, [])).toThrow(ApiCertificateError);
    expect(() => ensureApiCertificate(cert, key, [])).toThrow(/readable by group or others \(mode 0640\)/);
    expect(() => ensureApiCertificate(cert, path.join(dir, 'gone.key'), [])).toThrow(/is missing/);
  });
});

describe('page sessions', () => {
  it('are random ids that expire after their time and are unknown to another server', () => {
    let now = 1_000;
    const sessions = new Sessions(() => now, 60_000);
    const id = sessions.create();
    expect(id).toMatch(/^[\w-]{43}$/);
    expect(sessions.create()).not.toBe(id);
    expect(sessions.valid(id)).toBe(true);
    expect(sessions.valid(undefined)).toBe(false);
    expect(new Sessions(() => now).valid(id)).toBe(false); // a restart ends every session
    now += 60_000;
    expect(sessions.valid(id)).toBe(false);
  });
});
