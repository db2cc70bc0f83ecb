import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, unlinkSync } from 'node:fs';
import { resolve } from 'node:path';
import { createSecureContext } from 'node:tls';
import forge from 'node-forge';
import type { TwConfig } from '../config/index.js';
import { checkStationCertificate, type StationCertificate } from './certcheck.js';
import {
  refuseExisting,
  requestSubject,
  subjectText,
  unsignedRequest,
  verifiedPem,
  writeNew,
} from './csr.js';
import { EkeyCertificateError } from './pkcs11-errors.js';
import { SoftUsageError } from './soft-errors.js';
import { readPassphraseFile, readSecretFile } from './secret-file.js';

/**
 * The soft-encryption certificate material (`[tls] mode = soft`): a software RSA key and its
 * certificate request (`nqgw softkey csr`), then, once the CA has issued the certificate, the
 * PKCS#12 that `SoftTlsCredentials` reads (`nqgw softkey pkcs12`). Keys, PKCS#12 files and
 * passphrase files are owner-only (0600); nothing is ever overwritten; no key or passphrase is
 * printed or returned.
 */

export interface SoftCsrOptions {
  keyOut: string;
  out: string;
  cn?: string;
}

export interface SoftCsrResult {
  keyOut: string;
  out: string;
  subject: string;
}

/** `nqgw softkey csr`: a new RSA 2048 key (node:crypto), written 0600, and a CSR signed with it. */
export function softCertificateRequest(config: TwConfig, opts: SoftCsrOptions): SoftCsrResult {
  const subject = requestSubject(config, opts.cn);
  if (resolve(opts.keyOut) === resolve(opts.out)) {
    throw new SoftUsageError(
      '--key-out and --out name the same file',
      'The key and the request are two files.',
    );
  }
  refuseExisting(opts.keyOut, opts.out); // both checked before a key is made: all or nothing
  // node:crypto for the key: OpenSSL's generator, far faster than node-forge's in pure JS.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const forgeKey = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
  const { csr } = unsignedRequest(subject, forge.pki.setRsaPublicKey(forgeKey.n, forgeKey.e));
  csr.sign(forgeKey, forge.md.sha256.create());
  const pem = verifiedPem(csr);
  writeNew(opts.keyOut, keyPem, 0o600);
  try {
    writeNew(opts.out, pem, 0o644);
  } catch (err) {
    // A key without its request is of no use and would block the next run (never overwritten).
    unlinkSync(opts.keyOut);
    throw err;
  }
  return { keyOut: opts.keyOut, out: opts.out, subject: subjectText(subject) };
}

export interface SoftPkcs12Options {
  key: string;
  cert: string;
  /** More certificates for the bundle (intermediate or the CA), PEM. */
  ca?: string;
  out: string;
  passphraseFile: string;
  now?: Date;
}

export interface SoftPkcs12Result {
  out: string;
  certificate: Pick<StationCertificate, 'subject' | 'issuer' | 'serial' | 'notAfter'>;
  chain: number;
}

/**
 * `nqgw softkey pkcs12`: key + certificate (+ chain) into the PKCS#12 for `[soft] pkcs12`. The
 * certificate is first checked as the gateway checks it at every soft logon (this station,
 * issued by `[tls] ca`, valid now) and against the key: a file that the gateway would refuse
 * with 您的Ekey证书有误 (NQ101) on the day it is needed is refused now, and nothing is written.
 * AES-256 (PBES2/PBKDF2) protects the key bag; the result is read back with node-forge (as
 * SoftTlsCredentials reads it) and with Node's tls (as the handshake uses it) before it is written.
 */
export function softPkcs12(config: TwConfig, opts: SoftPkcs12Options): SoftPkcs12Result {
  refuseExisting(opts.out);
  const passphrase = readPassphraseFile(opts.passphraseFile);
  const keyPem = readSecretFile(opts.key, 'key').toString('utf8');
  let key: forge.pki.rsa.PrivateKey;
  try {
    key = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
  } catch (err) {
    throw new SoftUsageError(
      `${opts.key} is not an unencrypted RSA private key in PEM (${(err as Error).message})`,
      'Give the key written by nqgw softkey csr --key-out.',
    );
  }
  const certs = pemCertificates(readText(opts.cert, '--cert'), opts.cert);
  const cert = certs[0];
  if (cert === undefined) throw new SoftUsageError(`${opts.cert} holds no PEM certificate`);
  const chain = opts.ca !== undefined ? pemCertificates(readText(opts.ca, '--ca'), opts.ca) : [];
  if (config.tls.ca === '') {
    throw new SoftUsageError(
      '[tls] ca is not set',
      `The station certificate is checked against the main station's CA: set it in ${config.source}.`,
    );
  }
  const checked = checkStationCertificate(derOf(cert), {
    stationId: config.station.id,
    caPem: readText(config.tls.ca, '[tls] ca'),
    now: opts.now ?? new Date(),
    keyModulusHex: key.n.toString(16),
  });
  const asn1 = forge.pkcs12.toPkcs12Asn1(key, [cert, ...chain], passphrase, {
    algorithm: 'aes256',
    friendlyName: config.station.id,
    generateLocalKeyId: true, // pairs key and certificate bags, which is how the reader finds the station's
  });
  const pfx = Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');
  readBack(pfx, passphrase, checked.modulusHex);
  writeNew(opts.out, pfx, 0o600);
  return {
    out: opts.out,
    certificate: {
      subject: checked.subject,
      issuer: checked.issuer,
      serial: checked.serial,
      notAfter: checked.notAfter,
    },
    chain: chain.length,
  };
}

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    throw new SoftUsageError(`cannot read ${what} ${file} (${(err as Error).message})`);
  }
}

function pemCertificates(text: string, file: string): forge.pki.Certificate[] {
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  return blocks.map((b) => {
    try {
      return forge.pki.certificateFromPem(b);
    } catch (err) {
      throw new SoftUsageError(`${file}: a certificate cannot be read (${(err as Error).message})`);
    }
  });
}

function derOf(cert: forge.pki.Certificate): Buffer {
  return Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary');
}

/** Open the new PKCS#12 the two ways it will be opened, before it replaces nothing on disk. */
function readBack(pfx: Buffer, passphrase: string, modulusHex: string): void {
  try {
    const p12 = forge.pkcs12.pkcs12FromAsn1(
      forge.asn1.fromDer(forge.util.createBuffer(pfx.toString('binary'))),
      passphrase,
    );
    const bagType = forge.pki.oids['pkcs8ShroudedKeyBag'] as string;
    const keyBag = (p12.getBags({ bagType })[bagType] ?? [])[0];
    const inside = keyBag?.key as forge.pki.rsa.PrivateKey | undefined;
    if (inside?.n.toString(16) !== modulusHex) throw new Error('the key inside is not the key given');
    createSecureContext({ pfx, passphrase });
  } catch (err) {
    throw new EkeyCertificateError(`the PKCS#12 just built does not read back (${(err as Error).message})`);
  }
}
