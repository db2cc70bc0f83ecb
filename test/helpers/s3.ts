import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { cephSkipReason, CephCluster } from './ceph.js';

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer?: http.Server;
}
type S3rverCtor = new (options: Record<string, unknown>) => S3rverInstance;
const S3rver = createRequire(import.meta.url)('s3rver') as S3rverCtor;

/** The fixed test credentials: s3rver's own, and the Ceph test user's (s3rver takes any secret; Ceph checks). */
export const S3RVER_KEY = 'S3RVER';
export const LOG_BUCKET = 'nqgw-logs';

/** What the proxy does to one request. */
export type Fault =
  | 'pass'
  | 'reset-mid-body' // read part of the request body, then reset the connection
  | 500
  | 503
  | { slowMs: number } // pass, but hold the answer this long
  | 'commit-drop' // pass to the store, let it commit, then drop the answer
  | 'flip-byte'; // pass, with the last byte of the request body changed on the way (same length)

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
  readonly seen: {
    method: string;
    url: string;
    fault: Fault;
    headers: http.IncomingHttpHeaders;
    /** The store's answer, when one came back through the proxy. */
    status?: number;
  }[] = [];

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
    const seen: FaultProxy['seen'][number] = {
      method: req.method ?? '',
      url: req.url ?? '',
      fault,
      headers: req.headers,
    };
    this.seen.push(seen);
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
        seen.status = up.statusCode;
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
    if (fault === 'flip-byte') {
      const body: Buffer[] = [];
      req.on('data', (c: Buffer) => body.push(c));
      req.on('end', () => {
        const all = Buffer.concat(body);
        if (all.length > 0) all[all.length - 1] = all[all.length - 1]! ^ 0xff;
        upstream.end(all);
      });
      return;
    }
    req.pipe(upstream);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** The store behind the proxy: s3rver, or a real S3 implementation (Ceph's radosgw). */
export type StoreKind = 's3rver' | 'ceph';

/**
 * The stores the shipping tests run against: s3rver always, Ceph when its binaries are installed
 * (scripts/ci-deps/ceph.sh; the CI runs it). Use with describe.each and skipIf(skip).
 */
export function storeKinds(): { kind: StoreKind; skip: string | null }[] {
  return [
    { kind: 's3rver', skip: null },
    { kind: 'ceph', skip: cephSkipReason() },
  ];
}

/**
 * `body` once per store kind (s3rver, and a one-node Ceph where its binaries are installed;
 * skipped, saying why, where not), with the store started before the cases and stopped after.
 * `s3` stands for the started store: use it inside cases and hooks, not while collecting.
 */
export function describeEachStore(body: (s3: S3Lab, kind: StoreKind) => void): void {
  describe.each(storeKinds())('store: $kind', ({ kind, skip }) => {
    if (skip) {
      it.skip(`skipped: ${skip}`, () => undefined);
      return;
    }
    let lab: S3Lab | null = null;
    beforeAll(async () => {
      lab = await S3Lab.start(kind);
      if (lab.startSeconds !== null)
        process.stdout.write(`CEPH cluster up (signed S3 answered) in ${lab.startSeconds.toFixed(1)} s\n`);
    }, 240_000);
    afterAll(async () => {
      await lab?.stop();
    }, 60_000);
    const s3 = new Proxy({} as S3Lab, {
      get: (_target, prop) => {
        if (!lab) throw new Error(`the ${kind} store is not started yet`);
        const value: unknown = Reflect.get(lab, prop, lab);
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(lab) : value;
      },
    });
    body(s3, kind);
  });
}

interface Backend {
  /** Start the store (again); its loopback port. */
  up(): Promise<number>;
  /** The store goes away (its data stays). */
  down(): Promise<void>;
  /** Everything gone. */
  close(): Promise<void>;
}

class S3rverBackend implements Backend {
  private store: S3rverInstance | null = null;

  constructor(private readonly dir: string) {}

  async up(): Promise<number> {
    const store = new S3rver({
      address: '127.0.0.1',
      port: 0,
      silent: true,
      directory: this.dir,
      configureBuckets: [{ name: LOG_BUCKET }],
    });
    const addr = await store.run();
    this.store = store;
    return addr.port;
  }

  async down(): Promise<void> {
    const store = this.store;
    this.store = null;
    if (!store) return;
    store.httpServer?.closeAllConnections();
    await store.close();
  }

  async close(): Promise<void> {
    await this.down();
  }
}

/** A one-node Ceph cluster; down/up kill and restart radosgw (the cluster keeps the objects). */
class CephBackend implements Backend {
  cluster: CephCluster | null = null;

  async up(): Promise<number> {
    if (!this.cluster) {
      this.cluster = await CephCluster.start(S3RVER_KEY, S3RVER_KEY);
      await createBucket(this.cluster.endpoint);
    } else {
      await this.cluster.startGateway();
    }
    return this.cluster.s3Port;
  }

  async down(): Promise<void> {
    await this.cluster?.stopGateway();
  }

  async close(): Promise<void> {
    await this.cluster?.stop();
    this.cluster = null;
  }
}

async function createBucket(endpoint: string): Promise<void> {
  const { S3Client, CreateBucketCommand } = await import('@aws-sdk/client-s3');
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_KEY },
  });
  try {
    await client.send(new CreateBucketCommand({ Bucket: LOG_BUCKET }));
  } finally {
    client.destroy();
  }
}

/**
 * An S3 store on a loopback port behind a FaultProxy: s3rver (data in a temp dir that survives
 * stop/start) or a one-node Ceph cluster (test/helpers/ceph.ts). Both take the same fixed keys
 * (S3RVER_KEY), so the appliance's settings do not depend on which one runs.
 */
export class S3Lab {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'nqgw-s3-'));
  readonly proxy = new FaultProxy();
  private readonly backend: Backend;
  private running = false;

  private constructor(readonly kind: StoreKind) {
    this.backend = kind === 'ceph' ? new CephBackend() : new S3rverBackend(this.dir);
  }

  static async start(kind: StoreKind = 's3rver'): Promise<S3Lab> {
    const lab = new S3Lab(kind);
    await lab.proxy.start();
    try {
      await lab.startStore();
    } catch (err) {
      await lab.stop();
      throw err;
    }
    return lab;
  }

  /** Seconds the Ceph cluster took to answer signed S3 requests (null for s3rver). */
  get startSeconds(): number | null {
    return this.backend instanceof CephBackend ? (this.backend.cluster?.startSeconds ?? null) : null;
  }

  /** Through the proxy: what the appliance is pointed at. */
  get endpoint(): string {
    return `http://127.0.0.1:${this.proxy.port}`;
  }

  /** Straight to the store, for reading back (only while it runs). */
  get directEndpoint(): string {
    return `http://127.0.0.1:${this.proxy.upstreamPort}`;
  }

  async startStore(): Promise<void> {
    this.proxy.upstreamPort = await this.backend.up();
    this.running = true;
  }

  /** The store goes away: s3rver closes or radosgw is killed; the proxy then resets every connection. */
  async stopStore(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await this.backend.down();
    this.proxy.upstreamPort = 1; // nothing listens there
  }

  async stop(): Promise<void> {
    await this.stopStore();
    await this.backend.close();
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
