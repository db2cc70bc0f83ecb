import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
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
  t = await startOpsLab();
  profile = mkdtempSync(path.join(os.tmpdir(), 'nqgw-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
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
  it('logs in once with ?token= (HttpOnly cookie, token gone from the URL) and shows the vendor screen', async () => {
    await page.goto(`${t.url}/?token=${t.token}`);
    expect(page.url()).toBe(`${t.url}/`);
    const cookies = await context.cookies(t.url);
    expect(cookies.find((c) => c.name === 'nqgw_token')).toMatchObject({
      httpOnly: true,
      sameSite: 'Strict',
    });
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
    const res = await fetch(`${t.url}/`, { headers: { authorization: `Bearer ${t.token}` } });
    const html = await res.text();
    expect(html).not.toMatch(/(src|href)="https?:/);
    process.stdout.write(`status page weight: ${Buffer.byteLength(html)} bytes\n`);
  });
});
