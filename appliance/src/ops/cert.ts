import { createHash, createPrivateKey, generateKeyPairSync, randomBytes, X509Certificate } from 'node:crypto';
import { readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import forge from 'node-forge';
import { AppError } from '../shared/index.js';

/** The management API's certificate or key cannot be made or used (NQ650). */
export class ApiCertificateError extends AppError {
  constructor(message: string, hint: string, cause?: unknown) {
    super('NQ650', message, hint, cause === undefined ? undefined : { cause });
  }
}

export interface ApiCertificate {
  certPem: string;
  keyPem: string;
  /** SHA-256 of the certificate (colon hex, as browsers and `openssl x509 -fingerprint` show it). */
  fingerprint: string;
  /** The addresses and names the certificate is valid for. */
  names: string[];
  created: boolean;
}

/**
 * The appliance's own certificate for the management listener: read it, or make it (RSA 2048,
 * self-signed, 825 days, key 0600, neither file ever overwritten) when both files are missing.
 * Self-signed on purpose: there is no CA the management network would share with the appliance,
 * and whoever talks to the API pins this one certificate (the nqgw commands read the file; the
 * operator's browser and Prometheus are given it, docs/ops.md).
 */
export function ensureApiCertificate(certFile: string, keyFile: string, hosts: string[]): ApiCertificate {
  const have = [certFile, keyFile].map((f) => exists(f));
  if (!have[0] && !have[1]) {
    const names = certificateNames(hosts);
    const { certPem, keyPem } = makeSelfSigned(names);
    try {
      writeFileSync(keyFile, keyPem, { mode: 0o600, flag: 'wx' });
      writeFileSync(certFile, certPem, { mode: 0o644, flag: 'wx' });
    } catch (err) {
      // Half a pair would block the next start: take back what was written.
      for (const f of [keyFile, certFile]) {
        try {
          if (readFileSync(f, 'utf8') === keyPem || readFileSync(f, 'utf8') === certPem) unlinkSync(f);
        } catch {
          // not ours or not there
        }
      }
      throw new ApiCertificateError(
        `管理接口证书无法创建 ${certFile}, ${keyFile}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
        "Check that the directory exists and is writable by the gateway's user, or set [management] tls_cert and tls_key.",
        err,
      );
    }
    return { ...describe(certPem), certPem, keyPem, created: true };
  }
  if (!have[0] || !have[1]) {
    throw new ApiCertificateError(
      `管理接口证书不完整: ${have[0] ? keyFile : certFile} is missing`,
      `Restore it, or remove ${have[0] ? certFile : keyFile} as well so that a new pair is made at the next start (its fingerprint changes: tell the operators and Prometheus).`,
    );
  }
  const mode = statSync(keyFile).mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new ApiCertificateError(
      `管理接口私钥 ${keyFile} is readable by group or others (mode ${mode.toString(8).padStart(4, '0')}); refusing to start the API`,
      `chmod 600 ${keyFile} (and make a new pair if others may have read it)`,
    );
  }
  const certPem = readFileSync(certFile, 'utf8');
  const keyPem = readFileSync(keyFile, 'utf8');
  try {
    if (!new X509Certificate(certPem).checkPrivateKey(createPrivateKey(keyPem)))
      throw new Error('the key is not the certificate’s');
  } catch (err) {
    throw new ApiCertificateError(
      `管理接口证书 ${certFile} 与私钥 ${keyFile} 不可用: ${(err as Error).message}`,
      'Put back the matching pair, or remove both files so that a new pair is made at the next start.',
      err,
    );
  }
  return { ...describe(certPem), certPem, keyPem, created: false };
}

/** Whether a certificate names a host (IP or DNS name) in its subjectAltName. */
export function certificateCovers(certPem: string, host: string): boolean {
  const x = new X509Certificate(certPem);
  return host.includes(':') || /^\d+\.\d+\.\d+\.\d+$/.test(host)
    ? x.checkIP(host) !== undefined
    : x.checkHost(host) !== undefined;
}

/** SHA-256 of the certificate's public key, base64: what Chromium's SPKI pin list takes. */
export function spkiSha256(certPem: string): string {
  const der = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}

function exists(file: string): boolean {
  try {
    statSync(file);
    return true;
  } catch {
    return false;
  }
}

/** The listen address (unless a wildcard), loopback, and this host's name and addresses for 0.0.0.0. */
function certificateNames(hosts: string[]): string[] {
  const names = new Set<string>(['127.0.0.1', '::1', 'localhost', os.hostname()]);
  for (const h of hosts) {
    if (h === '0.0.0.0' || h === '::') {
      for (const list of Object.values(os.networkInterfaces()))
        for (const a of list ?? []) if (!a.internal) names.add(a.address);
    } else names.add(h);
  }
  return [...names];
}

function describe(certPem: string): { fingerprint: string; names: string[] } {
  const x = new X509Certificate(certPem);
  const names = (x.subjectAltName ?? '')
    .split(', ')
    .map((s) => s.replace(/^(DNS|IP Address):/, ''))
    .filter(Boolean);
  return { fingerprint: x.fingerprint256, names };
}

function makeSelfSigned(names: string[]): { certPem: string; keyPem: string } {
  // node:crypto for the key (OpenSSL's generator, far faster than node-forge's in pure JS).
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const key = forge.pki.privateKeyFromPem(keyPem) as forge.pki.rsa.PrivateKey;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  cert.serialNumber = `01${randomBytes(15).toString('hex')}`; // positive, 16 bytes
  const now = new Date();
  cert.validity.notBefore = new Date(now.getTime() - 5 * 60_000); // a little clock skew
  cert.validity.notAfter = new Date(now.getTime() + 825 * 86_400_000);
  const subject = [
    { name: 'commonName', value: `nqgw management API ${os.hostname()}`.slice(0, 64) },
    { name: 'organizationName', value: 'nqgw appliance' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  const isIp = (n: string): boolean => n.includes(':') || /^\d+\.\d+\.\d+\.\d+$/.test(n);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false, critical: true },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    {
      name: 'subjectAltName',
      altNames: names.map((n) => (isIp(n) ? { type: 7, ip: n } : { type: 2, value: n })),
    },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(key, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem };
}
