import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tls from 'node:tls';
import forge from 'node-forge';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../appliance/src/config/index.js';
import {
  SoftEncryption,
  SoftTlsCredentials,
  softCertificateRequest,
} from '../../../appliance/src/ekey/index.js';
import { runSoftCsr, runSoftPkcs12 } from '../../../appliance/src/cli/softkey-material.js';
import { runNqgw } from '../../helpers/process.js';
import { certificate, rsaKey, type KeyPair } from '../../integration/ekey/pki.js';
import { softLab, TestClock } from './helpers.js';

const STATION = 'W888888T';
const caKey = rsaKey();
const ca = certificate({
  cn: 'soft CA',
  key: caKey,
  ca: true,
  notBefore: new Date('2025-01-01'),
  notAfter: new Date('2035-12-31'),
});
const otherCaKey = rsaKey();
const otherCa = certificate({ cn: 'other CA', key: otherCaKey, ca: true });

let lab: ReturnType<typeof softLab>;
let out: string[];
const io = { out: (l: string) => out.push(l), err: (l: string) => out.push(l) };
const f = (name: string): string => join(lab.dir, name);

beforeEach(() => {
  // [soft] pkcs12 names the file `softkey pkcs12` is about to write, as an operator would set it.
  lab = softLab(['pkcs12 = soft.p12', 'pkcs12_passphrase_file = soft.pass']);
  writeFileSync(f('ca.pem'), ca.pem);
  writeFileSync(f('soft.pass'), 'secret\n', { mode: 0o600 });
  chmodSync(f('soft.pass'), 0o600);
  out = [];
});
afterEach(() => lab.cleanup());

/** The CA's side: issue a certificate for the request (node-forge), valid over the test clock's dates. */
function issue(
  csrFile: string,
  opts: { cn?: string; by?: { cert: forge.pki.Certificate; key: KeyPair } } = {},
): string {
  const csr = forge.pki.certificationRequestFromPem(readFileSync(csrFile, 'utf8'));
  expect(csr.verify()).toBe(true);
  const cert = forge.pki.createCertificate();
  cert.publicKey = csr.publicKey as forge.pki.rsa.PublicKey;
  cert.serialNumber = '0a1b';
  cert.validity.notBefore = new Date('2025-01-01');
  cert.validity.notAfter = new Date('2035-12-31');
  cert.setSubject(opts.cn !== undefined ? [{ shortName: 'CN', value: opts.cn }] : csr.subject.attributes);
  const by = opts.by ?? { cert: ca.cert, key: caKey };
  cert.setIssuer(by.cert.subject.attributes);
  cert.sign(by.key.forgePrivate, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

/** `softkey pkcs12` on the test's usual files (soft.key, soft.crt, soft.pass → soft.p12). */
function pkcs12(): number {
  return runSoftPkcs12(
    {
      config: lab.ini,
      key: f('soft.key'),
      cert: f('soft.crt'),
      out: f('soft.p12'),
      passphraseFile: f('soft.pass'),
    },
    io,
  );
}

function makeKeyAndCsr(): void {
  expect(runSoftCsr({ config: lab.ini, keyOut: f('soft.key'), out: f('soft.csr') }, io)).toBe(0);
}

describe('nqgw softkey csr', () => {
  it('the real CLI: a 0600 key, a request that verifies, the station as CN; no key printed; no overwrite', async () => {
    const r = await runNqgw([
      'softkey',
      'csr',
      '--config',
      lab.ini,
      '--key-out',
      f('soft.key'),
      '--out',
      f('soft.csr'),
    ]);
    expect(r.code, r.output).toBe(0);
    expect(r.output).not.toContain('PRIVATE KEY');
    expect(statSync(f('soft.key')).mode & 0o777).toBe(0o600);
    expect(statSync(f('soft.csr')).mode & 0o777).toBe(0o644);
    execFileSync('openssl', ['req', '-verify', '-noout', '-in', f('soft.csr')], { stdio: 'pipe' });
    const subject = execFileSync(
      'openssl',
      ['req', '-noout', '-subject', '-nameopt', 'compat', '-in', f('soft.csr')],
      {
        encoding: 'utf8',
      },
    );
    expect(subject.trim()).toBe(`subject=/CN=${STATION}`);
    // The request's key is the key written.
    const csrPub = execFileSync('openssl', ['req', '-noout', '-pubkey', '-in', f('soft.csr')], {
      encoding: 'utf8',
    });
    const keyPub = execFileSync('openssl', ['pkey', '-pubout', '-in', f('soft.key')], { encoding: 'utf8' });
    expect(csrPub).toBe(keyPub);

    const key = readFileSync(f('soft.key'));
    const again = await runNqgw([
      'softkey',
      'csr',
      '--config',
      lab.ini,
      '--key-out',
      f('soft.key'),
      '--out',
      f('other.csr'),
    ]);
    expect(again.code, again.output).toBe(3);
    expect(again.output).toContain('[NQ131]');
    expect(readFileSync(f('soft.key')).equals(key)).toBe(true);
    expect(existsSync(f('other.csr'))).toBe(false); // all or nothing: no request without its key
  });

  it('--cn names another subject; the same file for key and request is a usage error', () => {
    const r = softCertificateRequest(loadConfig(lab.ini), {
      keyOut: f('k.pem'),
      out: f('r.csr'),
      cn: 'renew-1',
    });
    expect(r.subject).toBe('/CN=renew-1');
    expect(runSoftCsr({ config: lab.ini, keyOut: f('same'), out: f('same') }, io)).toBe(2);
    expect(existsSync(f('same'))).toBe(false);
  });
});

describe('nqgw softkey pkcs12', () => {
  it('the real CLI builds the PKCS#12 that SoftTlsCredentials and Node tls read', async () => {
    makeKeyAndCsr();
    writeFileSync(f('soft.crt'), issue(f('soft.csr')));
    const r = await runNqgw([
      'softkey',
      'pkcs12',
      '--config',
      lab.ini,
      '--key',
      f('soft.key'),
      '--cert',
      f('soft.crt'),
      '--ca',
      f('ca.pem'),
      '--out',
      f('soft.p12'),
      '--passphrase-file',
      f('soft.pass'),
    ]);
    expect(r.code, r.output).toBe(0);
    expect(r.output).not.toContain('secret');
    expect(statSync(f('soft.p12')).mode & 0o777).toBe(0o600);

    // Node's tls takes it as the gateway hands it over.
    const pfx = readFileSync(f('soft.p12'));
    expect(() => tls.createSecureContext({ pfx, passphrase: 'secret' })).not.toThrow();
    expect(() => tls.createSecureContext({ pfx, passphrase: 'wrong' })).toThrow();
    // OpenSSL's own reading: AES-256 for the key bag.
    const info = spawnSync(
      'openssl',
      ['pkcs12', '-in', f('soft.p12'), '-info', '-noout', '-passin', 'pass:secret'],
      {
        encoding: 'utf8',
      },
    );
    expect(info.status, info.stderr).toBe(0);
    expect(info.stderr + info.stdout).toContain('AES-256-CBC');

    // And SoftTlsCredentials ([soft] pkcs12 = soft.p12) on a confirmed soft day.
    const clock = new TestClock().at('2025-09-29');
    const soft = SoftEncryption.fromConfig(loadConfig(lab.ini), clock);
    soft.apply({ start: '2025-09-29', end: '2025-10-10', reason: 'EKey 损坏', operator: 'li' });
    soft.confirmToday('wang');
    const opts = await new SoftTlsCredentials(loadConfig(lab.ini), clock).secureContextOptions();
    expect(opts.passphrase).toBe('secret');
    expect(() => tls.createSecureContext({ pfx: opts.pfx, passphrase: opts.passphrase ?? '' })).not.toThrow();
  });

  it.each([
    ['another station', () => issue(f('soft.csr'), { cn: 'W999999T' }), /does not name station W888888T/],
    [
      'another CA',
      () => issue(f('soft.csr'), { by: { cert: otherCa.cert, key: otherCaKey } }),
      /not issued by the configured CA/,
    ],
    [
      'another key',
      () => certificate({ cn: STATION, key: rsaKey(), issuer: { cert: ca.cert, key: caKey } }).pem,
      /does not belong to the private key/,
    ],
  ])(
    'a certificate of %s: refused with 您的Ekey证书有误 (NQ101, exit 3), nothing written',
    (_what, cert, why) => {
      makeKeyAndCsr();
      writeFileSync(f('soft.crt'), cert());
      out = [];
      const code = pkcs12();
      expect(code).toBe(3);
      expect(out[0]).toBe('[NQ101] 您的Ekey证书有误，请检查是否选择了正确的Ekey证书');
      expect(out.join('\n')).toMatch(why);
      expect(existsSync(f('soft.p12'))).toBe(false);
    },
  );

  it('a passphrase file readable by others, or empty: refused (exit 2), nothing written', () => {
    makeKeyAndCsr();
    writeFileSync(f('soft.crt'), issue(f('soft.csr')));
    chmodSync(f('soft.pass'), 0o644);
    expect(pkcs12()).toBe(2);
    expect(out.join('\n')).toMatch(/readable by others/);
    expect(out.join('\n')).not.toContain('secret');
    expect(existsSync(f('soft.p12'))).toBe(false);
    writeFileSync(f('soft.pass'), '\n');
    chmodSync(f('soft.pass'), 0o600);
    expect(pkcs12()).toBe(2);
    expect(existsSync(f('soft.p12'))).toBe(false);
  });

  it('an existing --out is refused (exit 3) and left as it was', () => {
    makeKeyAndCsr();
    writeFileSync(f('soft.crt'), issue(f('soft.csr')));
    writeFileSync(f('soft.p12'), 'old', { mode: 0o600 });
    const code = pkcs12();
    expect(code).toBe(3);
    expect(out.join('\n')).toContain('[NQ131]');
    expect(readFileSync(f('soft.p12'), 'utf8')).toBe('old');
  });
});
