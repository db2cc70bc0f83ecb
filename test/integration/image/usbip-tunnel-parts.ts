/**
 * Parts of the USB/IP tunnel test (usbip-tunnel.test.ts): real stunnel processes started from
 * the configurations the image and the USB host use, a TCP echo standing in for usbipd (which
 * needs a USB device), and a TCP relay that records every byte crossing "the VPC".
 */
import { spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { waitUntil } from '../../helpers/process.js';
import { spawnTracked } from '../../helpers/leftovers.js';
import { IMAGE, REPO } from './tools.js';

export const USBIP_SH = join(IMAGE, 'files', 'nqgw-usbip.sh');
export const CERTS_SH = join(REPO, 'scripts', 'usbip-host', 'nqgw-usbip-certs.sh');

function which(name: string): string | null {
  for (const dir of ['/usr/bin', '/bin', '/usr/sbin', '/sbin', '/usr/local/bin']) {
    const p = join(dir, name);
    if (spawnSync('test', ['-x', p]).status === 0) return p;
  }
  return null;
}

export const STUNNEL = which('stunnel4');
export const OPENSSL = which('openssl');

/** The stunnel client config nqgw-render-host writes for a replica (the image's own code). */
export async function renderClientConfig(
  usbip: { server: string; busid: string; tunnel_port: number },
  credentialsDir: string,
): Promise<string> {
  type Rendered = Record<string, { text: string; mode: number }>;
  const mod = (await import(pathToFileURL(join(IMAGE, 'files', 'nqgw-render-host.mjs')).href)) as {
    renderUsbip: (h: unknown, read: (f: string) => string, dir: string) => Rendered;
  };
  const read = (f: string): string => readFileSync(join(IMAGE, 'templates', f), 'utf8');
  const files = mod.renderUsbip({ usbip }, read, credentialsDir);
  const conf = files['etc/nqgw/usbip-tunnel.conf'];
  if (!conf) throw new Error('nqgw-render-host rendered no usbip-tunnel.conf');
  return conf.text;
}

/** One stunnel process; start() resolves once its service listens (its own "bound to" line). */
export class Stunnel {
  log = '';
  private readonly child: ChildProcess;
  private readonly exited: Promise<number | null>;

  private constructor(conf: string) {
    if (!STUNNEL) throw new Error('stunnel4 is not installed');
    this.child = spawnTracked(STUNNEL, [conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.on('data', (d: Buffer) => (this.log += d.toString()));
    this.child.stderr?.on('data', (d: Buffer) => (this.log += d.toString()));
    // 'close', not 'exit': the log is complete only once its pipes are drained.
    this.exited = new Promise((resolve) => this.child.on('close', (code) => resolve(code)));
  }

  static async start(conf: string): Promise<Stunnel> {
    const s = new Stunnel(conf);
    // A stunnel that exits at start (port taken, bad config) fails the test at once, with its log.
    const died = s.exited.then((code) => {
      throw new Error(`stunnel ${conf} exited (${code}) before listening:\n${s.log}`);
    });
    const bound = waitUntil(
      () => /Service \[usbip\] \(FD=\d+\) bound to /.test(s.log),
      `stunnel ${conf} listening`,
      15_000,
    );
    await Promise.race([bound, died]);
    died.catch(() => undefined); // it exits later, at stop(): not an error then
    return s;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    await this.exited;
  }
}

/** Stands in for usbipd on 127.0.0.1: echoes, and counts what reached it. */
export class Echo {
  connections = 0;
  received = Buffer.alloc(0);
  readonly server = net.createServer((sock) => {
    this.connections += 1;
    sock.on('data', (d: Buffer) => {
      this.received = Buffer.concat([this.received, d]);
      sock.write(d);
    });
    sock.on('error', () => undefined);
  });

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as net.AddressInfo).port;
  }

  reset(): void {
    this.connections = 0;
    this.received = Buffer.alloc(0);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** The network between replica and USB host: relays to `target` and records both directions. */
export class WireRecorder {
  up = Buffer.alloc(0);
  down = Buffer.alloc(0);
  private readonly sockets = new Set<net.Socket>();
  readonly server: net.Server;

  constructor(target: number) {
    this.server = net.createServer((inbound) => {
      const outbound = net.connect(target, '127.0.0.1');
      for (const s of [inbound, outbound]) {
        this.sockets.add(s);
        s.on('error', () => undefined);
        s.on('close', () => this.sockets.delete(s));
      }
      inbound.on('data', (d: Buffer) => {
        this.up = Buffer.concat([this.up, d]);
        outbound.write(d);
      });
      outbound.on('data', (d: Buffer) => {
        this.down = Buffer.concat([this.down, d]);
        inbound.write(d);
      });
      inbound.on('end', () => outbound.end());
      outbound.on('end', () => inbound.end());
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as net.AddressInfo).port;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/**
 * What usbip does to the tunnel's local end (127.0.0.1:3240 on a replica; `port` here): connect
 * and send. Resolves with every byte that came back once the other side closed or `expect` bytes
 * arrived.
 */
export async function exchangeAt(port: number, payload: Buffer, expect: number): Promise<Buffer> {
  const sock = net.connect(port, '127.0.0.1');
  let back = Buffer.alloc(0);
  return new Promise((resolve, reject) => {
    sock.on('connect', () => sock.write(payload));
    sock.on('data', (d: Buffer) => {
      back = Buffer.concat([back, d]);
      if (back.length >= expect) sock.end();
    });
    sock.on('error', (err: NodeJS.ErrnoException) => {
      // A refused tunnel resets the connection: that is an answer, not a failure of the test.
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') resolve(back);
      else reject(err);
    });
    sock.on('close', () => resolve(back));
  });
}
