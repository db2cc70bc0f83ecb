import { execFileSync } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AlertChannels,
  MailDeliveryError,
  parseChannelSettings,
  sendMail,
  type Alert,
  type MailSettings,
} from '../../../appliance/src/ops/index.js';
import type { TwConfig } from '../../../appliance/src/config/index.js';
import { REPO, waitUntil } from '../../helpers/process.js';
import { LoopbackSmtpServer } from '../../helpers/smtp.js';
import { tempDir } from '../../helpers/tempdir.js';

const servers: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

async function relay(
  options: ConstructorParameters<typeof LoopbackSmtpServer>[0] = {},
): Promise<LoopbackSmtpServer> {
  const s = new LoopbackSmtpServer(options);
  servers.push(s);
  await s.start();
  return s;
}

function settings(port: number, extra: Partial<MailSettings> = {}): MailSettings {
  return {
    host: '127.0.0.1',
    port,
    implicitTls: false,
    starttls: false,
    from: 'nqgw-gw-a@broker.example',
    to: ['dr-duty@broker.example', 'it-head@broker.example'],
    timeoutMs: 5000,
    ...extra,
  };
}

const ALERT: Alert = {
  code: 'LINK_DOWN',
  severity: 'critical',
  title: '通信中断',
  words: '通信状态: 中断',
  since: '2026-12-02T01:30:00.000Z',
  lastSeen: '2026-12-02T01:30:00.000Z',
  count: 1,
  action: 'Check the route to the main station; `nqgw switch N` to another server of tw.ini.',
};

describe('alert mail through an SMTP relay (a real SMTP server on loopback)', () => {
  it('delivers to every recipient, UTF-8 subject and body intact', async () => {
    const s = await relay();
    await sendMail(settings(s.port), {
      subject: '[nqgw W888888T] 严重告警 LINK_DOWN: 通信中断',
      text: '通信状态: 中断\n.第二行',
    });
    expect(s.received).toHaveLength(1);
    const m = s.received[0]!;
    expect(m.from).toBe('nqgw-gw-a@broker.example');
    expect(m.to).toEqual(['dr-duty@broker.example', 'it-head@broker.example']);
    expect(m.subject).toBe('[nqgw W888888T] 严重告警 LINK_DOWN: 通信中断');
    expect(m.body).toBe('通信状态: 中断\r\n.第二行');
    expect(m.headers['content-type']).toBe('text/plain; charset=UTF-8');
    expect(m.tls).toBe(false);
  });

  it('STARTTLS with the relay CA, then AUTH PLAIN with the password from a 0600 file', async () => {
    const dir = tempDir('nqgw-smtp-');
    const key = path.join(dir, 'relay.key');
    const cert = path.join(dir, 'relay.crt');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'pipe' },
    );
    const pass = path.join(dir, 'mail.pass');
    writeFileSync(pass, 's3cret\n', { mode: 0o600 });
    const s = await relay({ tls: { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') } });
    await sendMail(settings(s.port, { starttls: true, ca: cert, user: 'nqgw', passwordFile: pass }), {
      subject: 'x',
      text: 'y',
    });
    expect(s.received[0]!.tls).toBe(true);
    expect(s.received[0]!.auth).toBe('\0nqgw\0s3cret');
  });

  it('refuses to send in clear when STARTTLS is required and not offered', async () => {
    const s = await relay();
    const err = await sendMail(settings(s.port, { starttls: true }), { subject: 'x', text: 'y' }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MailDeliveryError);
    expect((err as MailDeliveryError).code).toBe('NQ841');
    expect(s.received).toHaveLength(0);
  });

  it('a refused recipient fails the delivery with the relay words', async () => {
    const s = await relay({ refuse: ['it-head@broker.example'] });
    const err = await sendMail(settings(s.port), { subject: 'x', text: 'y' }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/RCPT TO:<it-head@broker\.example>: 550/);
    expect(s.received).toHaveLength(0);
  });
});

describe('[alerts] channels: settings, mail and the SMS-gateway webhook template', () => {
  function config(dir: string, alerts: Record<string, string>): TwConfig {
    return { source: path.join(dir, 'tw.ini'), extra: { alerts } } as unknown as TwConfig;
  }

  it('checks [alerts]: relay URL, addresses, password file mode, unknown keys (NQ840)', () => {
    const dir = tempDir('nqgw-alerts-');
    const pass = path.join(dir, 'mail.pass');
    writeFileSync(pass, 'x', { mode: 0o644 });
    chmodSync(pass, 0o644);
    const base = { mail_relay: 'smtp://10.80.0.25', mail_from: 'a@b.c', mail_to: 'd@e.f' };
    expect(parseChannelSettings(config(dir, base)).mail).toMatchObject({
      host: '10.80.0.25',
      port: 25,
      starttls: false,
    });
    expect(
      parseChannelSettings(config(dir, { ...base, mail_relay: 'smtps://relay.example' })).mail,
    ).toMatchObject({
      port: 465,
      implicitTls: true,
    });
    for (const bad of <Record<string, string>[]>[
      { ...base, mail_relay: 'http://x' },
      { ...base, mail_to: 'nobody' },
      { ...base, mail_password_file: 'mail.pass' },
      { ...base, mail_starttls: 'maybe' },
      { ...base, mial_to: 'x@y.z' },
      { webhook_url: 'ftp://x' },
    ])
      expect(() => parseChannelSettings(config(dir, bad)), JSON.stringify(bad)).toThrow(/\[alerts\]/);
  });

  it('mails raises and clears at or above min_severity and posts the SMS template, words intact', async () => {
    const s = await relay();
    const posted: unknown[] = [];
    const hook = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        posted.push(JSON.parse(body));
        res.end('{"ok":true}');
      });
    });
    await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
    servers.push({ stop: () => new Promise<void>((r) => hook.close(() => r())) });
    const dir = tempDir('nqgw-alerts-');
    const port = (hook.address() as AddressInfo).port;
    const parsed = parseChannelSettings(
      config(dir, {
        webhook_url: `http://127.0.0.1:${port}/sms`,
        webhook_template: path.join(REPO, 'appliance/data/alerts/webhook-sms.json'),
        mail_relay: `smtp://127.0.0.1:${s.port}`,
        mail_from: 'nqgw@broker.example',
        mail_to: 'dr-duty@broker.example',
      }),
    );
    const gaveUp: string[] = [];
    const channels = new AlertChannels(parsed, 'W888888T', (c, e) => gaveUp.push(`${c}: ${e}`), 'gw-a');
    try {
      channels.notify('raised', { ...ALERT, severity: 'info', code: 'NOTICE' }); // below warning: nowhere
      channels.notify('raised', ALERT);
      channels.notify('cleared', { ...ALERT, clearedAt: '2026-12-02T01:31:00.000Z' });
      await s.waitFor(2);
      await waitUntil(() => posted.length >= 2, 'two webhook posts');
    } finally {
      channels.stop();
    }
    expect(s.received.map((m) => m.subject)).toEqual([
      '[nqgw W888888T] 严重告警 LINK_DOWN: 通信中断',
      '[nqgw W888888T] 严重告警解除 LINK_DOWN: 通信中断',
    ]);
    expect(s.received[0]!.body).toContain('处理 (action): Check the route to the main station');
    expect(posted[0]).toEqual({
      mobiles: ['13800000000', '13900000000'],
      content: '【nqgw】严重告警 W888888T@gw-a LINK_DOWN 通信中断: 通信状态: 中断',
      sign: 'DR',
    });
    expect(gaveUp).toEqual([]);
  });
});
