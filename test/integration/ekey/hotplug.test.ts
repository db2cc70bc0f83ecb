import { execFile } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Pkcs11Module, ckrFromEngineError, prepareEngine } from '../../../appliance/src/ekey/index.js';
import { certificate, rsaKey } from './pki.js';
import {
  ENGINE_DIR,
  SOFTHSM_MODULE,
  initToken,
  softhsmMissing,
  softhsmStore,
  writeObject,
} from './softhsm.js';

/**
 * The finding behind docs/ekey.md "Hot-plug does not recover inside the process": once the token
 * has gone away, OpenSSL's pkcs11 engine in this process keeps stale handles even after the token
 * is back, while a fresh process handshakes at once. If this test starts failing because the
 * in-process handshake recovers, the engine got better: revisit the helper-process proposal.
 */
const missing = softhsmMissing();
const PIN = '246810';

let dir: string;
let tokens: string;
let server: tls.Server;
let port: number;
let caPem: string;
let certPem: string;
let pinFile: string;
let module: Pkcs11Module;
const URI = (): string => `pkcs11:token=hotplug;id=%01;type=private?pin-source=file:${pinFile}`;

describe.skipIf(missing !== null)('finding: token removal and the in-process pkcs11 engine', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nqgw-hotplug-'));
    tokens = softhsmStore(dir).tokens;
    const caKey = rsaKey();
    const ca = certificate({ cn: 'hotplug CA', key: caKey, ca: true });
    caPem = ca.pem;
    const key = rsaKey();
    const cert = certificate({ cn: 'W888888T', key, issuer: { cert: ca.cert, key: caKey } });
    certPem = cert.pem;
    initToken('hotplug', PIN);
    writeFileSync(join(dir, 'k.der'), key.privateDer);
    writeObject('hotplug', PIN, join(dir, 'k.der'), 'privkey', '01', 'key');
    pinFile = join(dir, 'pin');
    writeFileSync(pinFile, PIN, { mode: 0o600 });
    prepareEngine({ engineDir: ENGINE_DIR ?? '', module: SOFTHSM_MODULE ?? '' });
    module = new Pkcs11Module(SOFTHSM_MODULE ?? '');
    const sk = rsaKey();
    const sc = certificate({ cn: 'mainstation', key: sk, issuer: { cert: ca.cert, key: caKey } });
    server = tls.createServer(
      { key: sk.privatePem, cert: sc.pem, ca: ca.pem, requestCert: true, rejectUnauthorized: true },
      (s) => s.end('ok'),
    );
    server.on('tlsClientError', () => undefined);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    port = (server.address() as AddressInfo).port;
  }, 60_000);

  afterAll(async () => {
    await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('pkcs11js sees the token leave and come back (present(), re-initializing after an error)', () => {
    const probe = new Pkcs11Module(SOFTHSM_MODULE ?? '');
    expect(probe.present({ tokenLabel: 'hotplug' })).toBe(true);
    renameSync(tokens, tokens + '.away');
    try {
      expect(probe.present({ tokenLabel: 'hotplug' })).toBe(false);
    } finally {
      renameSync(tokens + '.away', tokens);
    }
    expect(probe.present({ tokenLabel: 'hotplug' })).toBe(true);
  });

  it('in one process: works, fails while gone, still fails when back; a fresh process works', async () => {
    // The client runs in its own process (as the gateway would, apart from the main station),
    // moving the token's directory away and back itself between handshakes.
    const script = join(dir, 'client.mjs');
    writeFileSync(
      script,
      `import tls from 'node:tls';
import { renameSync } from 'node:fs';
const opts = { host: '127.0.0.1', port: ${port}, ca: ${JSON.stringify(caPem)}, cert: ${JSON.stringify(certPem)},
  privateKeyEngine: 'pkcs11', privateKeyIdentifier: ${JSON.stringify(URI())}, checkServerIdentity: () => undefined };
const once = () => new Promise((resolve) => {
  let s;
  try { s = tls.connect(opts); } catch (e) { resolve('error ' + e.message.trim()); return; }
  s.once('data', (d) => { s.destroy(); resolve(String(d)); });
  s.once('error', (e) => resolve('error ' + e.message.trim()));
});
const steps = process.argv[2] === 'cycle' ? ['first', 'gone', 'back'] : ['fresh'];
const out = {};
for (const step of steps) {
  if (step === 'gone') renameSync(${JSON.stringify(tokens)}, ${JSON.stringify(tokens + '.away')});
  if (step === 'back') renameSync(${JSON.stringify(tokens + '.away')}, ${JSON.stringify(tokens)});
  out[step] = await once();
}
console.log(JSON.stringify(out));
`,
    );
    const run = (arg: string): Promise<Record<string, string>> =>
      new Promise((resolve, reject) => {
        execFile(process.execPath, [script, arg], { env: process.env, timeout: 20_000 }, (err, stdout) => {
          if (err) reject(err);
          else resolve(JSON.parse(stdout) as Record<string, string>);
        });
      });
    expect(module.present({ tokenLabel: 'hotplug' })).toBe(true);
    const cycle = await run('cycle');
    console.log(
      `first: ${cycle['first']}\ntoken gone: ${cycle['gone']}\ntoken back, same process: ${cycle['back']}`,
    );
    expect(cycle['first']).toBe('ok');
    expect(cycle['gone']).toMatch(/^error /);
    expect(cycle['back']).toMatch(/^error .*PKCS#11 module/);
    expect(ckrFromEngineError(new Error(cycle['back']))).not.toBe(null);

    // Meanwhile pkcs11js in this process (no engine here) saw the token go and come back, the
    // way the watcher probes it: present() re-initializes the module after SoftHSM's error.
    expect(module.present({ tokenLabel: 'hotplug' })).toBe(true);

    const t0 = performance.now();
    const fresh = await run('fresh');
    console.log(
      `fresh process after the token came back: ${fresh['fresh']} in ${(performance.now() - t0).toFixed(0)} ms (process start included)`,
    );
    expect(fresh['fresh']).toBe('ok');
  });
});

// Shown only where the real parts are missing, as a skip that says which.
if (missing !== null) {
  describe('EKey hot-plug finding skipped', () => {
    it.skip(`needs the real parts: ${missing}`, () => undefined);
  });
}
