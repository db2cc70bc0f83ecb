import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import tls from 'node:tls';
import { AppError } from '../shared/index.js';

/**
 * Alert mail through the site's mail relay (the DR practice's 邮件网关): a small SMTP client
 * (RFC 5321) of our own, since the appliance has no mail package and needs only one relay:
 * EHLO, optional STARTTLS (or smtps:// from the first byte), optional AUTH PLAIN, MAIL, RCPT,
 * DATA, QUIT. The message is UTF-8: subject as an RFC 2047 encoded word, body in base64, so the
 * vendor's Chinese words pass any 7-bit relay unchanged. Every step has a deadline.
 */
export interface MailSettings {
  host: string;
  port: number;
  /** smtps://: TLS from the first byte (port 465). */
  implicitTls: boolean;
  /** STARTTLS before anything else is sent (required when set: no fallback to clear text). */
  starttls: boolean;
  from: string;
  to: string[];
  user?: string;
  /** File holding the relay password (0600, never in tw.ini). */
  passwordFile?: string;
  /** CA file for the relay's certificate (default: the system's). */
  ca?: string;
  timeoutMs: number;
}

export interface MailMessage {
  subject: string;
  text: string;
}

/** The relay refused a step, or the conversation broke; the message is not delivered. */
export class MailDeliveryError extends AppError {
  constructor(message: string) {
    super(
      'NQ841',
      `告警邮件发送失败: ${message}`,
      'check [alerts] mail_relay, the relay, and the route to it (nftables, security group)',
    );
  }
}

function encodeWord(text: string): string {
  return /^[\x20-\x7e]*$/.test(text) ? text : `=?UTF-8?B?${Buffer.from(text, 'utf8').toString('base64')}?=`;
}

/** The whole message as sent after DATA, dot-stuffed and ending in CRLF.CRLF. */
export function formatMail(settings: MailSettings, msg: MailMessage, now = new Date()): string {
  const body = Buffer.from(msg.text.replace(/\r?\n/g, '\r\n'), 'utf8').toString('base64');
  const lines = [
    `From: ${settings.from}`,
    `To: ${settings.to.join(', ')}`,
    `Subject: ${encodeWord(msg.subject)}`,
    `Date: ${now.toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${randomBytes(12).toString('hex')}@${os.hostname()}>`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=UTF-8',
    'Content-Transfer-Encoding: base64',
    'X-Mailer: nqgw',
    '',
    ...(body.match(/.{1,76}/g) ?? []),
  ];
  // Dot-stuffing (RFC 5321 4.5.2): base64 never starts a line with '.', headers could.
  return `${lines.map((l) => (l.startsWith('.') ? `.${l}` : l)).join('\r\n')}\r\n.\r\n`;
}

interface Reply {
  code: number;
  text: string;
}

/** One SMTP conversation on one socket: replies read whole (multi-line 250-...), in order. */
class Conversation {
  private buffer = '';
  private waiting: ((r: Reply) => void) | null = null;
  private replies: Reply[] = [];
  private failed: Error | null = null;
  private onFail: ((e: Error) => void) | null = null;
  private lines: string[] = [];

  constructor(public socket: net.Socket) {
    this.attach(socket);
  }

  attach(socket: net.Socket): void {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('the relay closed the connection')));
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let at: number;
    while ((at = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, at).replace(/\r$/, '');
      this.buffer = this.buffer.slice(at + 1);
      this.lines.push(line.slice(4));
      if (line.length >= 3 && line[3] !== '-') {
        const reply = { code: Number(line.slice(0, 3)), text: this.lines.join(' ') };
        this.lines = [];
        if (this.waiting) {
          const w = this.waiting;
          this.waiting = null;
          w(reply);
        } else this.replies.push(reply);
      }
    }
  }

  private fail(err: Error): void {
    if (this.failed) return;
    this.failed = err;
    this.onFail?.(err);
  }

  read(): Promise<Reply> {
    const queued = this.replies.shift();
    if (queued) return Promise.resolve(queued);
    if (this.failed) return Promise.reject(this.failed);
    return new Promise((resolve, reject) => {
      this.waiting = resolve;
      this.onFail = reject;
    });
  }

  async expect(what: string, ok: number[]): Promise<Reply> {
    const r = await this.read();
    if (!ok.includes(r.code)) throw new MailDeliveryError(`${what}: ${r.code} ${r.text}`);
    return r;
  }

  async command(line: string, ok: number[], shown = line): Promise<Reply> {
    this.socket.write(`${line}\r\n`);
    return this.expect(shown, ok);
  }

  /** The socket is being handed to TLS: this conversation stops listening to the raw one. */
  detach(): void {
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('error');
    this.socket.removeAllListeners('close');
  }
}

function connect(settings: MailSettings): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const tlsOptions = {
      host: settings.host,
      port: settings.port,
      servername: net.isIP(settings.host) ? undefined : settings.host,
      ...(settings.ca ? { ca: readFileSync(settings.ca) } : {}),
    };
    const socket = settings.implicitTls
      ? tls.connect(tlsOptions, () => resolve(socket))
      : net.connect({ host: settings.host, port: settings.port }, () => resolve(socket));
    socket.once('error', reject);
  });
}

function upgrade(socket: net.Socket, settings: MailSettings): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const secure = tls.connect(
      {
        socket,
        // The name the certificate is checked against (without it, node checks "localhost").
        host: settings.host,
        servername: net.isIP(settings.host) ? undefined : settings.host,
        ...(settings.ca ? { ca: readFileSync(settings.ca) } : {}),
      },
      () => resolve(secure),
    );
    secure.once('error', reject);
  });
}

/** Sends one message through the relay; throws MailDeliveryError (or the socket's error) when it is not taken. */
export async function sendMail(settings: MailSettings, msg: MailMessage): Promise<void> {
  const deadline = setTimeout(
    () => socket?.destroy(new Error(`no answer within ${settings.timeoutMs} ms`)),
    settings.timeoutMs,
  );
  let socket: net.Socket | null = null;
  try {
    socket = await connect(settings);
    const c = new Conversation(socket);
    const helo = os.hostname().replace(/[^A-Za-z0-9.-]/g, '-') || 'nqgw';
    await c.expect('greeting', [220]);
    let ehlo = await c.command(`EHLO ${helo}`, [250]);
    if (settings.starttls) {
      if (!/\bSTARTTLS\b/i.test(ehlo.text))
        throw new MailDeliveryError('the relay does not offer STARTTLS (mail_starttls = yes)');
      await c.command('STARTTLS', [220]);
      c.detach();
      socket = await upgrade(socket, settings);
      c.attach(socket);
      ehlo = await c.command(`EHLO ${helo}`, [250]);
    }
    if (settings.user) {
      const password = settings.passwordFile ? readFileSync(settings.passwordFile, 'utf8').trim() : '';
      const token = Buffer.from(`\0${settings.user}\0${password}`, 'utf8').toString('base64');
      await c.command(`AUTH PLAIN ${token}`, [235], 'AUTH PLAIN (credentials not shown)');
    }
    await c.command(`MAIL FROM:<${settings.from}>`, [250]);
    for (const to of settings.to) await c.command(`RCPT TO:<${to}>`, [250, 251]);
    await c.command('DATA', [354]);
    socket.write(formatMail(settings, msg));
    await c.expect('message', [250]);
    await c.command('QUIT', [221]).catch(() => undefined);
  } finally {
    clearTimeout(deadline);
    socket?.destroy();
  }
}
