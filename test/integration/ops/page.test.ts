import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { readAuditLog, spkiSha256 } from '../../../appliance/src/ops/index.js';
import { pinnedRequest } from '../../helpers/https.js';
import { REPO, runNqgw, waitUntil } from '../../helpers/process.js';
import { startOpsLab, type OpsLab } from './ops-lab.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

let t: OpsLab;
let context: BrowserContext;
let page: Page;
let profile: string;
const requests: string[] = [];

beforeAll(async () => {
  if (!existsSync(CHROMIUM))
    throw new Error(`${CHROMIUM} is missing: run scripts/ci-deps/ops.sh (Debian package chromium)`);
  // The API as deployed: HTTPS with the appliance's own certificate (tw.ini [management] tls).
  t = await startOpsLab({}, { tls: true });
  profile = mkdtempSync(path.join(os.tmpdir(), 'nqgw-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    // Trust exactly the appliance's key, as an operator who imported api.crt would: no blanket
    // "ignore certificate errors", so a wrong certificate still fails the test.
    args: [...ARGS, `--ignore-certificate-errors-spki-list=${spkiSha256(t.ca!)}`],
    viewport: { width: 1280, height: 900 },
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('request', (r) => requests.push(r.url()));
});
afterAll(async () => {
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
  await t?.stop();
});

const text = (id: string): Promise<string> => page.locator(`#${id}`).innerText();

describe('status page in Chromium', () => {
  it('logs in once with ?token= over HTTPS (a Secure session cookie, not the token; token gone from the URL) and shows the vendor screen', async () => {
    expect(t.url).toMatch(/^https:/);
    await page.goto(`${t.url}/?token=${t.token}`);
    expect(page.url()).toBe(`${t.url}/`);
    const cookies = await context.cookies(t.url);
    const session = cookies.find((c) => c.name === 'nqgw_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', secure: true });
    expect(session?.value).not.toContain(t.token);
    expect(cookies.map((c) => c.value).join(' ')).not.toContain(t.token);
    await page.waitForFunction(() => document.getElementById('station')?.textContent === 'W888888T');
    await page.waitForFunction(() =>
      document.getElementById('link')?.textContent?.includes('通信状态: 正常'),
    );
    expect(await page.locator('#link').getAttribute('class')).toBe('banner ok');
    const body = await page.locator('body').innerText();
    for (const word of [
      '小站号',
      '通信服务器',
      '交易单元',
      '即时回报',
      '待发委托',
      '已发委托',
      '成功委托',
      '非法委托',
      '通信状态',
      '股市状态',
      '特别提示',
    ]) {
      expect(body, word).toContain(word);
    }
    expect(await text('units')).toBe('729900, 729901');
    expect(await text('key')).toBe('证书文件'); // the lab's [tls] mode = file
    expect(await text('log')).toMatch(/\d\d:\d\d:\d\d \[NQ302\] 小站端与服务器连接成功/);
  });

  it('changes without reload when orders flow, the main station sends a notice, and the link drops', async () => {
    await page.evaluate(() => {
      const w = window as unknown as { marker: string; seen: string[] };
      w.marker = 'same document';
      w.seen = [];
      const banner = document.getElementById('link')!;
      new MutationObserver(() => w.seen.push(`${banner.className}|${banner.textContent}`)).observe(banner, {
        childList: true,
        characterData: true,
        subtree: true,
        attributes: true,
      });
    });
    expect((await runNqgw(['feed', '--config', t.lab.twIni, '--count', '20'])).code).toBe(0);
    await page.waitForFunction(() => document.getElementById('sent')?.textContent === '20');
    await page.waitForFunction(() => document.getElementById('accepted')?.textContent === '20');

    await t.admin.post('/faults/notice', { station: t.lab.station, text: '今日15:30后进行灾备切换演练' });
    await page.waitForFunction(() =>
      document.getElementById('notice')?.textContent?.includes('今日15:30后进行灾备切换演练'),
    );
    await page.waitForFunction(() => document.getElementById('alerts')?.textContent?.includes('NOTICE'));
    expect(await text('alerts')).toContain('提示 NOTICE');
    expect(await text('log')).toContain('主站特别提示: 今日15:30后进行灾备切换演练');

    await t.admin.post('/faults/quit', { station: t.lab.station, reason: 'drill' });
    await page.waitForFunction(() => document.getElementById('alerts')?.textContent?.includes('LINK_ERROR'));
    expect(await text('alerts')).toContain('收到quit包, 连接中断');
    expect(await text('alerts')).toContain('处理:');
    await waitUntil(
      async () => (await t.admin.station(t.lab.station)).connected,
      'logged on again after the quit',
    );
    await page.waitForFunction(() => document.getElementById('link')?.className === 'banner ok');
    await page.evaluate(() => ((window as unknown as { seen: string[] }).seen = []));
    await t.admin.post('/faults/drop', { station: t.lab.station });
    await page.waitForFunction(() => document.getElementById('log')?.textContent?.includes('连接断开'));
    // The banner turns to a word-and-colour "down" state, then back to 正常 without a reload.
    await page.waitForFunction(() =>
      (window as unknown as { seen: string[] }).seen.some((s) => !s.startsWith('banner ok|')),
    );
    await page.waitForFunction(() => document.getElementById('link')?.className === 'banner ok');
    const seen = await page.evaluate(() => (window as unknown as { seen: string[] }).seen);
    const down = seen.filter((s) => !s.startsWith('banner ok|'));
    expect(
      down.every((s) => /通信状态: (中断|正在连接)/.test(s) && /^banner (bad|warn)\|/.test(s)),
      seen.join(' / '),
    ).toBe(true);
    expect(await page.evaluate(() => (window as unknown as { marker: string }).marker)).toBe('same document');
    expect(await text('live')).toBe('实时 live');

    // NQGW_OPS_SCREENSHOT=docs/ops-status-page.png refreshes the picture in docs/ (ops.md).
    const shot = process.env['NQGW_OPS_SCREENSHOT'];
    const file = shot ? path.resolve(REPO, shot) : path.join(profile, 'status-page.png');
    mkdirSync(path.dirname(file), { recursive: true });
    await page.screenshot({ path: file, fullPage: true });
    expect(statSync(file).size).toBeGreaterThan(10_000);
  });

  it('is self-contained: nothing but the page and its event stream is fetched', async () => {
    const foreign = requests.filter((u) => !u.startsWith(t.url));
    expect(foreign).toEqual([]);
    const paths = [...new Set(requests.map((u) => new URL(u).pathname))].sort();
    expect(paths).toEqual(['/', '/api/stream']);
    const res = await pinnedRequest(`${t.url}/`, t.ca!, { headers: { authorization: `Bearer ${t.token}` } });
    const html = res.text;
    expect(html).not.toMatch(/(src|href)="https?:/);
    process.stdout.write(`status page weight: ${Buffer.byteLength(html)} bytes\n`);
  });

  it('pulls a lever from its own origin, and refuses a form post from another service on this host', async () => {
    // The page's own origin with its session cookie and a JSON body: allowed (and audited).
    const own = await page.evaluate(async () => {
      const r = await fetch('api/control/pause', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-nqgw-operator': 'page' },
        body: '{}',
      });
      return r.status;
    });
    expect(own).toBe(200);
    expect((await t.api<{ holds: string[] }>('/api/status')).body.holds).toEqual(['operator']);
    // nqgw on the replica talks HTTPS too, trusting only the certificate file (ops/client.ts).
    const resume = await runNqgw(['resume', '--config', t.lab.twIni, '--operator', 'alice']);
    expect(resume.code, resume.output).toBe(0);
    expect((await t.api<{ holds: string[] }>('/api/status')).body.holds).toEqual([]);

    // Another HTTPS service on this host (another port: same site, so SameSite=Strict still
    // sends the cookie) serves a page that posts a form and a no-cors text/plain body to the
    // lever, and tries a JSON fetch (which needs a CORS preflight this API never grants).
    const lever = `${t.url}/api/control/pause`;
    const evil = https.createServer(
      { cert: t.ca!, key: readFileSync(path.join(t.lab.stateDir, 'api.key')) },
      (_req, res) => {
        res.setHeader('content-type', 'text/html');
        res.end(`<!doctype html><body><iframe name="sink"></iframe>
<form id="f" method="POST" action="${lever}" target="sink"><input name="operator" value="evil"></form>
<script>
window.results = [];
document.getElementById('f').submit();
fetch('${lever}', { method: 'POST', mode: 'no-cors', credentials: 'include', body: '{}' })
  .then(() => results.push('no-cors sent'), (e) => results.push('no-cors ' + e));
fetch('${lever}', { method: 'POST', credentials: 'include', headers: { 'content-type': 'application/json' }, body: '{}' })
  .then((r) => results.push('json ' + r.status), () => results.push('json blocked'));
</script></body>`);
      },
    );
    await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
    try {
      const before = readAuditLog(path.join(t.lab.stateDir, 'audit.log')).length;
      const other = await context.newPage();
      await other.goto(`https://127.0.0.1:${(evil.address() as AddressInfo).port}/`);
      await other.waitForFunction(() => (window as unknown as { results: string[] }).results.length === 2);
      expect(await other.evaluate(() => (window as unknown as { results: string[] }).results.sort())).toEqual(
        ['json blocked', 'no-cors sent'],
      );
      await waitUntil(
        async () =>
          (await t.api<{ lines: { code?: string }[] }>('/api/events?limit=1000')).body.lines.filter(
            (l) => l.code === 'NQ652',
          ).length >= 2,
        'both refusals in the operator log',
      );
      const refused = (
        await t.api<{ lines: { code?: string; text: string }[] }>('/api/events?limit=1000')
      ).body.lines
        .filter((l) => l.code === 'NQ652')
        .map((l) => l.text);
      expect(refused.join('\n')).toContain('application/x-www-form-urlencoded');
      expect(refused.join('\n')).toContain('text/plain');
      expect((await t.api<{ holds: string[] }>('/api/status')).body.holds).toEqual([]);
      expect(readAuditLog(path.join(t.lab.stateDir, 'audit.log'))).toHaveLength(before); // nothing done
      await other.close();
    } finally {
      evil.closeAllConnections();
      await new Promise<void>((r) => evil.close(() => r()));
    }
  });
});
