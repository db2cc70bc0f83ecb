import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer?: http.Server;
}
type S3rverCtor = new (options: Record<string, unknown>) => S3rverInstance;
const S3rver = createRequire(import.meta.url)('s3rver') as S3rverCtor;

/** s3rver's fixed credentials (it checks signatures against these). */
export const S3RVER_KEY = 'S3RVER';
export const LOG_BUCKET = 'nqgw-logs';

/** What the proxy does to one request. */
export type Fault =
  | 'pass'
  | 'reset-mid-body' // read part of the request body, then reset the connection
  | 500
  | 503
  | { slowMs: number } // pass, but hold the answer this long
  | 'commit-drop'; // pass to the store, let it commit, then drop the answer

/**
 * A fault-injecting HTTP proxy in front of s3rver: a queue of faults for the next requests,
 * else a standing fault (default 'pass'). With the store stopped it resets every connection.
 */
export class FaultProxy {
  private server!: http.Server;
  readonly queue: Fault[] = [];
  /** Faults for the next PUTs only (HEAD, GET and LIST pass). */
  readonly putQueue: Fault[] = [];
  standing: Fault = 'pass';
  upstreamPort = 0;
  port = 0;
  readonly seen: { method: string; url: string; fault: Fault; headers: http.IncomingHttpHeaders }[] = [];

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => this.handle(req, res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as AddressInfo).port;
  }

  fault(...faults: Fault[]): void {
    this.queue.push(...faults);
  }

  faultPuts(...faults: Fault[]): void {
    this.putQueue.push(...faults);
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const fault =
      (req.method === 'PUT' ? this.putQueue.shift() : undefined) ?? this.queue.shift() ?? this.standing;
    this.seen.push({ method: req.method ?? '', url: req.url ?? '', fault, headers: req.headers });
    if (fault === 500 || fault === 503) {
      req.resume();
      req.on('end', () => {
        res.writeHead(fault, { 'content-type': 'application/xml' });
        res.end(
          `<?xml version="1.0"?><Error><Code>${fault === 503 ? 'SlowDown' : 'InternalError'}</Code><Message>injected</Message></Error>`,
        );
      });
      return;
    }
    if (fault === 'reset-mid-body') {
      let got = 0;
      req.on('data', (c: Buffer) => {
        got += c.length;
        if (got > 0) req.socket.destroy();
      });
      req.on('end', () => req.socket.destroy());
      return;
    }
    const upstream = http.request(
      { host: '127.0.0.1', port: this.upstreamPort, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        const chunks: Buffer[] = [];
        up.on('data', (c: Buffer) => chunks.push(c));
        up.on('end', () => {
          if (fault === 'commit-drop') {
            req.socket.destroy();
            return;
          }
          const send = (): void => {
            res.writeHead(up.statusCode ?? 502, up.headers);
            res.end(Buffer.concat(chunks));
          };
          if (typeof fault === 'object') setTimeout(send, fault.slowMs);
          else send();
        });
      },
    );
    upstream.on('error', () => req.socket.destroy());
    req.pipe(upstream);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** s3rver on a loopback port (data in a temp dir that survives stop/start) behind a FaultProxy. */
export class S3Lab {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'nqgw-s3-'));
  readonly proxy = new FaultProxy();
  private store: S3rverInstance | null = null;

  static async start(): Promise<S3Lab> {
    const lab = new S3Lab();
    await lab.proxy.start();
    await lab.startStore();
    return lab;
  }

  /** Through the proxy: what the appliance is pointed at. */
  get endpoint(): string {
    return `http://127.0.0.1:${this.proxy.port}`;
  }

  /** Straight to s3rver, for reading back (only while it runs). */
  get directEndpoint(): string {
    return `http://127.0.0.1:${this.proxy.upstreamPort}`;
  }

  async startStore(): Promise<void> {
    const store = new S3rver({
      address: '127.0.0.1',
      port: 0,
      silent: true,
      directory: this.dir,
      configureBuckets: [{ name: LOG_BUCKET }],
    });
    const addr = await store.run();
    this.proxy.upstreamPort = addr.port;
    this.store = store;
  }

  /** The store goes away: s3rver closes; the proxy then resets every connection. */
  async stopStore(): Promise<void> {
    const store = this.store;
    this.store = null;
    if (!store) return;
    store.httpServer?.closeAllConnections();
    await store.close();
    this.proxy.upstreamPort = 1; // nothing listens there
  }

  async stop(): Promise<void> {
    await this.stopStore();
    await this.proxy.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Every line shipped under `prefix`, object by object in key order, gunzipped. */
export async function readShipped(lab: S3Lab, prefix: string): Promise<{ keys: string[]; lines: string[] }> {
  const { ObjectStore } = await import('../../appliance/src/logs/index.js');
  const { gunzipSync } = await import('node:zlib');
  const store = new ObjectStore({
    endpoint: lab.directEndpoint,
    bucket: LOG_BUCKET,
    prefix: '',
    region: 'us-east-1',
    credentials: { accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_KEY },
  });
  try {
    const keys = (await store.list(prefix)).filter((k) => k.endsWith('.jsonl.gz'));
    const lines: string[] = [];
    for (const key of keys) {
      const text = gunzipSync(await store.get(key)).toString('utf8');
      lines.push(...text.split('\n').filter((l) => l.length > 0));
    }
    return { keys, lines };
  } finally {
    store.destroy();
  }
}
