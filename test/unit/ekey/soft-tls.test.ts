import { execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import forge from 'node-forge';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../appliance/src/config/index.js';
import {
  EkeyCertificateError,
  SoftEncryption,
  SoftTlsCredentials,
} from '../../../appliance/src/ekey/index.js';
import { certificate, rsaKey, type KeyPair } from '../../integration/ekey/pki.js';
import { softLab, TestClock } from './helpers.js';

let lab: ReturnType<typeof softLab>;
let clock: TestClock;
const caKey = rsaKey();
const ca = certificate({
  cn: 'soft CA',
  key: caKey,
  ca: true,
  notBefore: new Date('2025-01-01'),
  notAfter: new Date('2035-12-31'),
});
const issuer = { cert: ca.cert, key: caKey };
const stationKey = rsaKey();

function p12(key: KeyPair, cn: string, pass: string): Buffer {
  const cert = certificate({
    cn,
    key,
    issuer,
    notBefore: new Date('2025-01-01'),
    notAfter: new Date('2035-12-31'),
  });
  const asn1 = forge.pkcs12.toPkcs12Asn1(key.forgePrivate, [cert.cert], pass, { algorithm: '3des' });
  return Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
}

beforeEach(() => {
  lab = softLab(['pkcs12 = soft.p12', 'pkcs12_passphrase_file = soft.pass']);
  writeFileSync(join(lab.dir, 'ca.pem'), ca.pem);
  writeFileSync(join(lab.dir, 'soft.p12'), p12(stationKey, 'W888888T', 'secret'), { mode: 0o600 });
  writeFileSync(join(lab.dir, 'soft.pass'), 'secret\n', { mode: 0o600 });
  clock = new TestClock().at('2025-09-29');
});
afterEach(() => lab.cleanup());

function openWindow(): void {
  const soft = SoftEncryption.fromConfig(loadConfig(lab.ini), clock);
  soft.apply({ start: '2025-09-29', end: '2025-10-10', reason: 'EKey 损坏', operator: 'li' });
  soft.confirmToday('wang');
}

describe('SoftTlsCredentials', () => {
  it('refuses without an open, confirmed window', async () => {
    const c = new SoftTlsCredentials(loadConfig(lab.ini), clock);
    await expect(c.secureContextOptions()).rejects.toMatchObject({ code: 'NQ163' });
    SoftEncryption.fromConfig(loadConfig(lab.ini), clock).apply({
      start: '2025-09-29',
      end: '2025-10-10',
      reason: 'x',
      operator: 'li',
    });
    await expect(c.secureContextOptions()).rejects.toMatchObject({ code: 'NQ165' });
  });

  it('hands tls the PKCS#12 on a confirmed day, and the handshake works', async () => {
    openWindow();
    const c = new SoftTlsCredentials(loadConfig(lab.ini), clock);
    const opts = await c.secureContextOptions();
    expect(opts.passphrase).toBe('secret');
    const serverKey = rsaKey();
    const serverCert = certificate({ cn: 'mainstation', key: serverKey, issuer, dns: 'mainstation' });
    const server = tls.createServer(
      {
        key: serverKey.privatePem,
        cert: serverCert.pem,
        ca: ca.pem,
        requestCert: true,
        rejectUnauthorized: true,
      },
      (s) => s.end(String(s.getPeerCertificate().subject.CN)),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const reply = await new Promise<string>((resolve, reject) => {
        const s = tls.connect({
          host: '127.0.0.1',
          port: (server.address() as AddressInfo).port,
          ...opts,
          servername: 'mainstation',
        });
        s.once('data', (d: Buffer) => {
          s.destroy();
          resolve(d.toString());
        });
        s.once('error', reject);
      });
      expect(reply).toBe('W888888T');
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('reads a PKCS#12 made by openssl 3 (AES-256, PBKDF2)', async () => {
    openWindow();
    const cert = certificate({
      cn: 'W888888T',
      key: stationKey,
      issuer,
      notBefore: new Date('2025-01-01'),
      notAfter: new Date('2035-12-31'),
    });
    writeFileSync(join(lab.dir, 'k.pem'), stationKey.privatePem);
    writeFileSync(join(lab.dir, 'c.pem'), cert.pem);
    execFileSync('openssl', [
      'pkcs12',
      '-export',
      '-inkey',
      join(lab.dir, 'k.pem'),
      '-in',
      join(lab.dir, 'c.pem'),
      '-out',
      join(lab.dir, 'soft.p12'),
      '-passout',
      'pass:secret',
    ]);
    chmodSync(join(lab.dir, 'soft.p12'), 0o600);
    await expect(
      new SoftTlsCredentials(loadConfig(lab.ini), clock).secureContextOptions(),
    ).resolves.toHaveProperty('pfx');
  });

  it('refuses a certificate of another station, and a PKCS#12 readable by others', async () => {
    openWindow();
    writeFileSync(join(lab.dir, 'soft.p12'), p12(rsaKey(), 'W999999T', 'secret'), { mode: 0o600 });
    const c = new SoftTlsCredentials(loadConfig(lab.ini), clock);
    await expect(c.secureContextOptions()).rejects.toBeInstanceOf(EkeyCertificateError);
    chmodSync(join(lab.dir, 'soft.p12'), 0o644);
    await expect(c.secureContextOptions()).rejects.toThrow(/readable by others/);
  });
});
