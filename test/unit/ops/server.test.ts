import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { OpsServer, TWO_PERSON_WORDS, personKey, readAuditLog } from '../../../appliance/src/ops/index.js';
import { waitUntil } from '../../helpers/process.js';
import { FakeGateway, fakeConfig, makeStatus } from './fixtures.js';

const TOKEN = 'unit-test-token-0123456789';

const running: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  for (const r of running.splice(0)) await r.stop();
});

async function hookReceiver(): Promise<{ url: string; got: { event: string; alert: { code: string } }[] }> {
  const got: { event: string; alert: { code: string } }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      got.push(JSON.parse(body));
      res.end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  running.push({ stop: () => new Promise((r) => server.close(() => r())) });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`, got };
}

async function start(
  webhookUrl?: string,
  requireChecker = false,
): Promise<{ gw: FakeGateway; server: OpsServer; stops: number[] }> {
  const gw = new FakeGateway(fakeConfig(mkdtempSync(path.join(os.tmpdir(), 'nqgw-ops-')), requireChecker));
  const stops: number[] = [];
  const server = new OpsServer(gw, {
    token: TOKEN,
    onStop: () => stops.push(1),
    ...(webhookUrl ? { webhookUrl } : {}),
  });
  await server.start();
  running.push(server);
  return { gw, server, stops };
}

const auth = { authorization: `Bearer ${TOKEN}` };

describe('OpsServer with a fake gateway', () => {
  it('streams snapshots and log lines as server-sent events, and sends alerts to the webhook', async () => {
    const hook = await hookReceiver();
    const { gw, server } = await start(hook.url);
    const res = await fetch(`${server.url}/api/stream`, { headers: auth });
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    const until = async (re: RegExp): Promise<void> => {
      while (!re.test(text)) text += new TextDecoder().decode((await reader.read()).value);
    };
    await until(/event: lines/);
    gw.current = makeStatus({ notice: '09:00 通知' });
    gw.emit('status', gw.current);
    await until(/event: snapshot\ndata: .*"code":"NOTICE"/);
    gw.log.warn('警告：发送线程已阻塞 16000 毫秒', 'NQ308');
    await until(/event: line\ndata: .*"code":"NQ308"/);
    await reader.cancel();
    await waitUntil(() => hook.got.length >= 2, 'webhook got the alerts');
    expect(hook.got.map((h) => `${h.event} ${h.alert.code}`)).toEqual([
      'raised NOTICE',
      'raised SEND_BLOCKED',
    ]);
  });

  it('turns a one-time ?token= into an HttpOnly session cookie (not the token) and redirects to the bare page', async () => {
    const { server } = await start();
    const login = await fetch(`${server.url}/?token=${TOKEN}`, { redirect: 'manual' });
    expect(login.status).toBe(303);
    expect(login.headers.get('location')).toBe('/');
    const cookie = login.headers.get('set-cookie')!;
    expect(cookie).toMatch(
      /^nqgw_session=[\w-]{43}; Max-Age=43200; Path=\/; Expires=.*; HttpOnly; SameSite=Strict$/,
    );
    expect(cookie).not.toContain(TOKEN);
    expect(cookie).not.toContain('Secure'); // plain HTTP on loopback: a Secure cookie would not come back
    expect((await fetch(`${server.url}/`, { headers: { cookie: `nqgw_session=${TOKEN}` } })).status).toBe(
      401,
    );
    const page = await fetch(`${server.url}/`, { headers: { cookie: cookie.split(';')[0]! } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>股转系统交易网关 nqgw</title>');
    expect((await fetch(`${server.url}/?token=wrong`)).status).toBe(401);
    expect(await (await fetch(`${server.url}/`)).text()).toMatch(/open \/\?token=TOKEN once/);
  });

  it('maps control calls to the gateway levers (switch is 1-based as in tw.ini) and audits each', async () => {
    const { gw, server, stops } = await start();
    const post = (route: string, body: unknown) =>
      fetch(`${server.url}/api/control/${route}`, {
        method: 'POST',
        headers: {
          ...auth,
          'content-type': 'application/json',
          'x-nqgw-operator': encodeURIComponent('张三'),
        },
        body: JSON.stringify(body),
      });
    expect((await post('switch', { server: 1 })).status).toBe(200);
    expect((await post('switch', { server: 0 })).status).toBe(400);
    expect((await post('pause', {})).status).toBe(200);
    expect((await post('resume', { operator: 'li' })).status).toBe(200);
    expect((await post('reconnect', {})).status).toBe(200);
    expect((await post('stop', {})).status).toBe(200);
    await waitUntil(() => stops.length === 1, 'onStop called after the answer');
    expect(gw.calls).toEqual([
      'switch 0',
      'hold operator true',
      'hold operator false',
      'reconnect operator 张三',
    ]);
    const audit = readAuditLog(path.join(gw.config.files.stateDir, 'audit.log'));
    expect(audit.map((e) => `${e.operator} ${e.action} ${e.result}`)).toEqual([
      '张三 switch ok',
      '张三 switch refused',
      '张三 pause ok',
      'li resume ok',
      '张三 reconnect ok',
      '张三 stop ok',
    ]);
    expect(gw.log.recent().filter((l) => l.code === 'NQ960')).toHaveLength(6);
  });
});

describe('two-person duty (require_checker)', () => {
  const poster =
    (url: string) =>
    (route: string, who: { operator?: string; checker?: string }, body: Record<string, unknown> = {}) =>
      fetch(`${url}/api/control/${route}`, {
        method: 'POST',
        headers: {
          ...auth,
          'content-type': 'application/json',
          ...(who.operator ? { 'x-nqgw-operator': encodeURIComponent(who.operator) } : {}),
          ...(who.checker ? { 'x-nqgw-checker': encodeURIComponent(who.checker) } : {}),
        },
        body: JSON.stringify(body),
      });

  it('compares people trimmed, case-folded and without the SSH address nqgw appends', () => {
    expect(personKey(' Alice ')).toBe('alice');
    expect(personKey('alice@10.0.0.5')).toBe('alice');
    expect(personKey('alice@::1')).toBe('alice');
    expect(personKey('alice@corp')).toBe('alice@corp'); // not an address: part of the name
  });

  it('refuses (403, nothing done) without a distinct checker, audits the refusal, then acts', async () => {
    const { gw, server, stops } = await start(undefined, true);
    const post = poster(server.url);
    const none = await post('pause', { operator: 'wang' });
    expect(none.status).toBe(403);
    expect(await none.json()).toMatchObject({ ok: false, error: TWO_PERSON_WORDS, checkerRequired: true });
    expect((await post('pause', { operator: 'wang', checker: ' WANG ' })).status).toBe(403);
    expect((await post('pause', { operator: 'wang@10.0.0.5', checker: 'Wang' })).status).toBe(403);
    expect((await post('switch', { operator: 'wang' }, { server: 1 })).status).toBe(403);
    expect((await post('stop', { checker: 'li' })).status).toBe(403); // nobody named as operator
    expect(gw.calls).toEqual([]);
    expect(stops).toEqual([]);

    expect((await post('pause', { operator: 'wang', checker: 'li' })).status).toBe(200);
    // The body carries the checker too (as for the operator), and wins over the header.
    expect((await post('resume', { operator: 'wang', checker: 'wang' }, { checker: '李四' })).status).toBe(
      200,
    );
    expect(gw.calls).toEqual(['hold operator true', 'hold operator false']);

    const file = path.join(gw.config.files.stateDir, 'audit.log');
    const audit = readAuditLog(file);
    expect(audit.map((e) => [e.operator, e.checker, e.action, e.result])).toEqual([
      ['wang', undefined, 'pause', 'refused'],
      ['wang', 'WANG', 'pause', 'refused'],
      ['wang@10.0.0.5', 'Wang', 'pause', 'refused'],
      ['wang', undefined, 'switch', 'refused'],
      ['unknown', 'li', 'stop', 'refused'],
      ['wang', 'li', 'pause', 'ok'],
      ['wang', '李四', 'resume', 'ok'],
    ]);
    expect(audit[0]!.detail).toBe(`${TWO_PERSON_WORDS} (no checker named)`);
    expect(audit[1]!.detail).toMatch(/\(checker WANG is the operator\)$/);
    expect(audit[3]!.args).toEqual({ server: 1 }); // what was tried
    expect(readFileSync(file, 'utf8')).not.toContain(TOKEN);
  });

  it('records a checker when named even if not required, and refuses nothing for lack of one', async () => {
    const { gw, server } = await start();
    const post = poster(server.url);
    expect((await post('pause', { operator: 'wang' })).status).toBe(200);
    expect((await post('resume', { operator: 'wang', checker: 'li' })).status).toBe(200);
    const audit = readAuditLog(path.join(gw.config.files.stateDir, 'audit.log'));
    expect(audit.map((e) => [e.action, e.result, e.checker])).toEqual([
      ['pause', 'ok', undefined],
      ['resume', 'ok', 'li'],
    ]);
    expect(gw.log.recent().at(-1)?.text).toMatch(/^操作员 wang 复核 li \(/);
  });
});
