import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ConnectRefusedError,
  ConnectTimeoutError,
  connectTls,
  decodeMessage,
  encodeMessage,
  FileTlsCredentials,
  FrameDecoder,
  HandshakeError,
  LinkClient,
  MessageType,
  type LinkLogLine,
  type LogonBody,
  type OrderAnswerBody,
} from '../../../appliance/src/link/index.js';
import type { ServerAddress } from '../../../appliance/src/config/index.js';
import { freePort } from '../../helpers/ports.js';

// ---- throwaway PKI, made with the openssl command line ----

let dir = '';
const pem = (name: string): Buffer => readFileSync(join(dir, name));

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

function makeCa(name: string, cn: string): void {
  openssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-days',
    '2',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.crt`,
    '-subj',
    `/CN=${cn}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
  );
}

function makeLeaf(name: string, ca: string, subject: string, ext: string): void {
  writeFileSync(join(dir, `${name}.ext`), `${ext}\nbasicConstraints=CA:FALSE\n`);
  openssl(
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    subject,
  );
  openssl(
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.crt`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    '-days',
    '2',
    '-out',
    `${name}.crt`,
    '-extfile',
    `${name}.ext`,
  );
}

// ---- a tiny main station: requires a client certificate, answers Logon and Orders ----

interface Station {
  server: tls.Server;
  address: ServerAddress;
  logons: { body: LogonBody; clientCn: string }[];
  sockets: Set<tls.TLSSocket>;
}

const stations: Station[] = [];

async function startStation(name: string, certName: string): Promise<Station> {
  const st: Station = {
    server: undefined as unknown as tls.Server,
    address: { host: '127.0.0.1', port: 0, name },
    logons: [],
    sockets: new Set(),
  };
  st.server = tls.createServer(
    {
      key: pem(`${certName}.key`),
      cert: pem(`${certName}.crt`),
      ca: pem('ca1.crt'),
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
    },
    (socket) => {
      st.sockets.add(socket);
      socket.on('close', () => st.sockets.delete(socket));
      socket.on('error', () => undefined);
      const dec = new FrameDecoder();
      let seq = 1;
      socket.on('data', (chunk: Buffer) => {
        const out: Buffer[] = [];
        for (const frame of dec.push(chunk)) {
          const msg = decodeMessage(frame);
          if (msg.type === MessageType.Logon) {
            const cn = socket.getPeerCertificate().subject?.CN;
            st.logons.push({ body: msg.body, clientCn: Array.isArray(cn) ? cn.join() : String(cn) });
            out.push(
              encodeMessage(
                {
                  type: MessageType.LogonAnswer,
                  body: {
                    ok: true,
                    tradingDate: msg.body.tradingDate,
                    marketState: 'OPEN',
                    serverTime: Date.now(),
                  },
                },
                seq++,
              ),
            );
          } else if (msg.type === MessageType.Order) {
            out.push(
              encodeMessage(
                {
                  type: MessageType.OrderAnswer,
                  body: { JYDY: msg.body.JYDY, LSH: msg.body.LSH, status: 'taken' },
                },
                seq++,
              ),
            );
          }
        }
        if (out.length > 0) socket.write(Buffer.concat(out));
      });
    },
  );
  st.server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => st.server.listen(0, '127.0.0.1', resolve));
  st.address.port = (st.server.address() as net.AddressInfo).port;
  stations.push(st);
  return st;
}

const LINK = {
  heartbeatMs: 10_000,
  silenceMs: 20_000,
  connectTimeoutMs: 3_000,
  backoffInitialMs: 20,
  backoffMaxMs: 100,
  primaryRetryS: 300,
  answerTimeoutMs: 10_000,
};

function client(servers: ServerAddress[], logs: LinkLogLine[], certName = 'client'): LinkClient {
  const c = new LinkClient({
    station: 'W888888T',
    units: ['729900'],
    auth: 'file',
    servers,
    link: LINK,
    serverName: 'mainstation',
    credentials: new FileTlsCredentials(
      join(dir, 'ca1.crt'),
      join(dir, `${certName}.crt`),
      join(dir, `${certName}.key`),
    ),
    lastReturnSeq: () => 12,
    tradingDate: () => '20260302',
    sendBlockWarnMs: 15_000,
  });
  c.on('log', (l) => logs.push(l));
  return c;
}

function once<T>(c: LinkClient, event: 'up' | 'orderAnswers'): Promise<T> {
  return new Promise<T>((resolve) => c.once(event, (arg: unknown) => resolve(arg as T)));
}

const clients: LinkClient[] = [];

describe('link over real TLS on loopback', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'nqgw-link-tls-'));
    makeCa('ca1', 'NQGW Test Main Station CA');
    makeCa('ca2', 'Some Other CA');
    makeLeaf(
      'server',
      'ca1',
      '/CN=mainstation/O=NEEQ Test',
      'subjectAltName=DNS:mainstation\nextendedKeyUsage=serverAuth',
    );
    makeLeaf(
      'rogue',
      'ca2',
      '/CN=mainstation/O=Rogue',
      'subjectAltName=DNS:mainstation\nextendedKeyUsage=serverAuth',
    );
    makeLeaf('client', 'ca1', '/CN=W888888T', 'extendedKeyUsage=clientAuth');
    makeLeaf('stranger', 'ca2', '/CN=W888888T', 'extendedKeyUsage=clientAuth');
  });

  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.stop()));
    for (const st of stations.splice(0)) {
      for (const s of st.sockets) s.destroy();
      await new Promise<void>((resolve) => st.server.close(() => resolve()));
    }
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('logs on with a client certificate and gets up; orders are answered', async () => {
    const st = await startStation('server1', 'server');
    const logs: LinkLogLine[] = [];
    const c = client([st.address], logs);
    clients.push(c);
    const up = once<{ server: ServerAddress }>(c, 'up');
    c.start();
    expect((await up).server).toEqual(st.address);
    expect(st.logons).toEqual([
      { clientCn: 'W888888T', body: expect.objectContaining({ station: 'W888888T', lastReturnSeq: 12 }) },
    ]);
    expect(logs.map((l) => l.code)).toEqual(expect.arrayContaining(['NQ301', 'NQ302', 'NQ310']));
    expect(logs.find((l) => l.code === 'NQ310')?.text).toContain('CN=mainstation');

    const answers = once<OrderAnswerBody[]>(c, 'orderAnswers');
    const order = {
      JYDY: '729900',
      WTRQ: '20260302',
      WTSJ: '093000',
      LSH: '1',
      GDDM: 'A',
      ZQDM: '430047',
      YWLB: '0B',
      WTJG: 1,
      WTSL: 100,
      DFXW: '',
      DFGD: '',
      YDH: '',
      CDLSH: '',
      BZ: '',
      recNo: 1,
    };
    expect(c.sendOrders([{ body: order, possDup: false }])).toBe(true);
    expect(await answers).toEqual([{ JYDY: '729900', LSH: '1', status: 'taken' }]);
    await c.stop();
    expect(c.state).toBe('stopped');
  });

  it('fails the handshake (NQ309) against a server whose certificate is from another CA', async () => {
    const st = await startStation('rogue', 'rogue');
    const creds = new FileTlsCredentials(
      join(dir, 'ca1.crt'),
      join(dir, 'client.crt'),
      join(dir, 'client.key'),
    );
    const err = await connectTls(st.address, creds, { serverName: 'mainstation', timeoutMs: 3_000 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HandshakeError);
    expect((err as HandshakeError).code).toBe('NQ309');
    expect((err as HandshakeError).message).toMatch(/^与服务器握手失败: .*(verify|certificate)/);

    const logs: LinkLogLine[] = [];
    const c = client([st.address], logs);
    clients.push(c);
    c.start();
    await waitFor(() => logs.some((l) => l.code === 'NQ309'));
    expect(c.state).not.toBe('up');
  });

  it('fails the handshake when the certificate does not name serverName', async () => {
    const st = await startStation('server1', 'server');
    const creds = new FileTlsCredentials(
      join(dir, 'ca1.crt'),
      join(dir, 'client.crt'),
      join(dir, 'client.key'),
    );
    const err = await connectTls(st.address, creds, { serverName: 'elsewhere', timeoutMs: 3_000 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(HandshakeError);
    expect((err as Error).message).toMatch(/elsewhere/);
  });

  it('never gets up with a client certificate the main station does not trust, and says why', async () => {
    const st = await startStation('server1', 'server');
    const logs: LinkLogLine[] = [];
    const c = client([st.address], logs, 'stranger');
    clients.push(c);
    let ups = 0;
    c.on('up', () => ups++);
    c.start();
    // TLS 1.3: the client finishes its side first and then sees the server's alert or close.
    await waitFor(() =>
      logs.some((l) => l.code === 'NQ309' || l.code === 'NQ393' || l.code?.startsWith('ERR_SSL')),
    );
    expect(ups).toBe(0);
    expect(st.logons).toEqual([]);
  });

  it('reports a refused connection and moves on to server 2', async () => {
    const port = await freePort(); // nothing listens there now
    const refused: ServerAddress = { host: '127.0.0.1', port, name: 'server1' };
    const creds = new FileTlsCredentials(
      join(dir, 'ca1.crt'),
      join(dir, 'client.crt'),
      join(dir, 'client.key'),
    );
    await expect(
      connectTls(refused, creds, { serverName: 'mainstation', timeoutMs: 3_000 }),
    ).rejects.toBeInstanceOf(ConnectRefusedError);

    const st = await startStation('server2', 'server');
    const logs: LinkLogLine[] = [];
    const c = client([refused, st.address], logs);
    clients.push(c);
    const up = once<{ server: ServerAddress }>(c, 'up');
    c.start();
    expect((await up).server).toEqual(st.address);
    expect(c.serverIndex).toBe(1);
    expect(logs.some((l) => l.code === 'NQ391')).toBe(true);
  });

  it('times out a server that accepts TCP but never answers the handshake', async () => {
    const sockets: net.Socket[] = [];
    const mute = net.createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => mute.listen(0, '127.0.0.1', resolve));
    const address = { host: '127.0.0.1', port: (mute.address() as net.AddressInfo).port, name: 'mute' };
    const creds = new FileTlsCredentials(
      join(dir, 'ca1.crt'),
      join(dir, 'client.crt'),
      join(dir, 'client.key'),
    );
    const err = await connectTls(address, creds, { serverName: 'mainstation', timeoutMs: 300 }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConnectTimeoutError);
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => mute.close(() => resolve()));
  });

  it('reads the certificate files afresh at each connect', async () => {
    const path = join(dir, 'renewed.crt');
    writeFileSync(path, 'one');
    const creds = new FileTlsCredentials(join(dir, 'ca1.crt'), path, join(dir, 'client.key'));
    expect(String((await creds.secureContextOptions()).cert)).toBe('one');
    writeFileSync(path, 'two');
    expect(String((await creds.secureContextOptions()).cert)).toBe('two');
    const missing = new FileTlsCredentials(join(dir, 'nope.crt'), path, path);
    await expect(missing.secureContextOptions()).rejects.toMatchObject({ code: 'NQ395' });
  });
});

async function waitFor(cond: () => boolean, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
