import net from 'node:net';
import tls from 'node:tls';

/** One message as the loopback relay took it: envelope, raw data, and the decoded parts. */
export interface ReceivedMail {
  helo: string;
  from: string;
  to: string[];
  auth: string | null;
  tls: boolean;
  data: string;
  headers: Record<string, string>;
  subject: string;
  body: string;
}

export interface SmtpServerOptions {
  /** Offer and accept STARTTLS with this key and certificate. */
  tls?: { key: string; cert: string };
  /** Reply to RCPT TO for these addresses with 550 (the relay refuses them). */
  refuse?: string[];
}

function decodeWords(v: string): string {
  return v.replace(/=\?UTF-8\?B\?([A-Za-z0-9+/=]+)\?=/gi, (_, b64: string) =>
    Buffer.from(b64, 'base64').toString('utf8'),
  );
}

function parse(data: string): { headers: Record<string, string>; subject: string; body: string } {
  const unstuffed = data
    .split('\r\n')
    .map((l) => (l.startsWith('..') ? l.slice(1) : l))
    .join('\r\n');
  const at = unstuffed.indexOf('\r\n\r\n');
  const headers: Record<string, string> = {};
  for (const line of unstuffed.slice(0, at).split('\r\n')) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  const raw = unstuffed.slice(at + 4);
  const body = /base64/i.test(headers['content-transfer-encoding'] ?? '')
    ? Buffer.from(raw.replace(/\s+/g, ''), 'base64').toString('utf8')
    : raw;
  return { headers, subject: decodeWords(headers['subject'] ?? ''), body };
}

/**
 * A real SMTP server on a loopback port (RFC 5321 server side, as much as a relay needs: EHLO,
 * STARTTLS, AUTH PLAIN, MAIL, RCPT, DATA with dot-unstuffing, RSET, NOOP, QUIT). Not a mock of
 * the appliance's code: the appliance's client talks to it over TCP as it would to the site's
 * relay. Messages land in `received`; `waitFor` resolves when n have arrived.
 */
export class LoopbackSmtpServer {
  readonly received: ReceivedMail[] = [];
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private waiters: { n: number; resolve: () => void }[] = [];
  port = 0;

  constructor(private readonly options: SmtpServerOptions = {}) {
    this.server = net.createServer((s) => this.session(s));
  }

  async start(): Promise<number> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this.port;
  }

  waitFor(n: number, timeoutMs = 20_000): Promise<void> {
    if (this.received.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`only ${this.received.length} of ${n} mails arrived`)),
        timeoutMs,
      );
      this.waiters.push({
        n,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  private session(raw: net.Socket): void {
    let socket: net.Socket = raw;
    this.sockets.add(raw);
    raw.on('close', () => this.sockets.delete(raw));
    raw.on('error', () => undefined);
    let buffer = '';
    let inData = false;
    let data: string[] = [];
    let mail: Omit<ReceivedMail, 'data' | 'headers' | 'subject' | 'body'> = {
      helo: '',
      from: '',
      to: [],
      auth: null,
      tls: false,
    };
    const say = (line: string): void => void socket.write(`${line}\r\n`);
    const onLine = (line: string): void => {
      if (inData) {
        if (line === '.') {
          inData = false;
          const text = data.join('\r\n');
          this.received.push({ ...mail, data: text, ...parse(text) });
          mail = { ...mail, from: '', to: [] };
          data = [];
          say('250 2.0.0 queued');
          this.waiters = this.waiters.filter((w) =>
            this.received.length >= w.n ? (w.resolve(), false) : true,
          );
        } else data.push(line);
        return;
      }
      const [verb = '', ...rest] = line.split(' ');
      const arg = rest.join(' ');
      switch (verb.toUpperCase()) {
        case 'EHLO':
          mail.helo = arg;
          say('250-loopback.relay');
          if (this.options.tls && !mail.tls) say('250-STARTTLS');
          say('250-AUTH PLAIN');
          say('250 8BITMIME');
          break;
        case 'STARTTLS': {
          if (!this.options.tls) return say('502 5.5.1 no TLS here');
          say('220 2.0.0 go ahead');
          raw.removeAllListeners('data');
          const secure = new tls.TLSSocket(raw, {
            isServer: true,
            key: this.options.tls.key,
            cert: this.options.tls.cert,
          });
          secure.on('error', () => undefined);
          secure.setEncoding('utf8');
          secure.on('data', (c: string) => feed(c));
          socket = secure;
          mail.tls = true;
          buffer = '';
          break;
        }
        case 'AUTH':
          mail.auth = Buffer.from(arg.replace(/^PLAIN /i, ''), 'base64').toString('utf8');
          say('235 2.7.0 authenticated');
          break;
        case 'MAIL':
          mail.from = /<([^>]*)>/.exec(arg)?.[1] ?? '';
          say('250 2.1.0 ok');
          break;
        case 'RCPT': {
          const to = /<([^>]*)>/.exec(arg)?.[1] ?? '';
          if (this.options.refuse?.includes(to)) return say(`550 5.1.1 <${to}>: recipient refused`);
          mail.to.push(to);
          say('250 2.1.5 ok');
          break;
        }
        case 'DATA':
          if (mail.to.length === 0) return say('554 5.5.1 no valid recipients');
          inData = true;
          say('354 end with <CRLF>.<CRLF>');
          break;
        case 'RSET':
          mail = { ...mail, from: '', to: [] };
          say('250 ok');
          break;
        case 'NOOP':
          say('250 ok');
          break;
        case 'QUIT':
          say('221 2.0.0 bye');
          socket.end();
          break;
        default:
          say('500 5.5.2 what?');
      }
    };
    const feed = (chunk: string): void => {
      buffer += chunk;
      let at: number;
      while ((at = buffer.indexOf('\r\n')) >= 0) {
        const line = buffer.slice(0, at);
        buffer = buffer.slice(at + 2);
        onLine(line);
      }
    };
    raw.setEncoding('utf8');
    raw.on('data', (c: string) => feed(c));
    say('220 loopback.relay ESMTP');
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
