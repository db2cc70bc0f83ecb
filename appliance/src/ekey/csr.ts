import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import forge from 'node-forge';
import pkcs11js from 'pkcs11js';
import type { TwConfig } from '../config/index.js';
import { readPinFile } from './pin.js';
import { AppError } from '../shared/index.js';
import { applyModuleEnv, ekeySettingsFromConfig } from './ekey-settings.js';
import { EkeyCertificateError, EkeyConfigError } from './pkcs11-errors.js';
import { Pkcs11Module } from './token.js';

/**
 * Certificate requests (PKCS#10) for the station's certificate renewal at the main station's CA.
 * node-forge builds and encodes the request; the signature is made where the key is: on the EKey
 * (`ekeyCertificateRequest`) or with a software key (`soft-material.ts`).
 */

/** An output file already exists: certificate material is never overwritten. CLI exit 3. */
export class OutputExistsError extends AppError {
  constructor(readonly file: string) {
    super(
      'NQ131',
      `${file} already exists; not overwritten`,
      'Move it away (it may be the only copy of a key or request) or name another output file.',
    );
  }
}

/** Refuse before any work (token login, key generation) when an output is already there. */
export function refuseExisting(...files: string[]): void {
  for (const f of files) if (existsSync(f)) throw new OutputExistsError(f);
}

/**
 * Write a new file with `mode`, failing if it appeared meanwhile (flag 'wx': exclusive create, so
 * a file made between the check and the write is not clobbered either). chmod afterwards because
 * the umask may have taken bits from `mode` (a 0644 request must stay readable for the CA upload).
 */
export function writeNew(file: string, data: string | Buffer, mode: number): void {
  try {
    writeFileSync(file, data, { flag: 'wx', mode });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new OutputExistsError(file);
    throw new AppError('NQ132', `cannot write ${file} (${(err as Error).message})`, undefined, {
      cause: err,
    });
  }
  chmodSync(file, mode);
}

/** The subject: CN = the station id (the CA issues station certificates by it) unless given. */
export function requestSubject(config: TwConfig, cn?: string): forge.pki.CertificateField[] {
  const name = cn ?? config.station.id;
  if (name.trim() === '') throw new EkeyConfigError('--cn: the common name is empty');
  return [{ shortName: 'CN', value: name }];
}

/** node-forge has it at runtime (x509.js) but its type declarations leave it out. */
const getCertificationRequestInfo = (
  forge.pki as unknown as {
    getCertificationRequestInfo(csr: forge.pki.CertificateSigningRequest): forge.asn1.Asn1;
  }
).getCertificationRequestInfo;

const toDer = (asn1: forge.asn1.Asn1): Buffer => Buffer.from(forge.asn1.toDer(asn1).getBytes(), 'binary');

/** An unsigned request for `publicKey` and the DER CertificationRequestInfo to be signed. */
export function unsignedRequest(
  subject: forge.pki.CertificateField[],
  publicKey: forge.pki.rsa.PublicKey,
): { csr: forge.pki.CertificateSigningRequest; info: Buffer } {
  const csr = forge.pki.createCertificationRequest();
  csr.publicKey = publicKey;
  csr.setSubject(subject);
  const cri = getCertificationRequestInfo(csr);
  // Kept on the request so the encoded request carries exactly the bytes that were signed.
  (csr as unknown as { certificationRequestInfo: forge.asn1.Asn1 }).certificationRequestInfo = cri;
  return { csr, info: toDer(cri) };
}

/**
 * Put an RSASSA-PKCS1-v1_5 SHA-256 signature made elsewhere (on the token) into the request,
 * check it verifies against the public key in the request, and return the PEM. The check catches
 * a token whose public-key object belongs to another private key here, not at the CA.
 */
export function completeRequest(csr: forge.pki.CertificateSigningRequest, signature: Buffer): string {
  // What csr.sign(key, forge.md.sha256.create()) would set, with the signature from elsewhere.
  const fields = csr as unknown as {
    signatureOid: string;
    siginfo: { algorithmOid: string };
    signature: string;
    md: null;
  };
  fields.signatureOid = fields.siginfo.algorithmOid = forge.pki.oids['sha256WithRSAEncryption'] as string;
  fields.signature = signature.toString('binary');
  fields.md = null; // verify() then digests the CertificationRequestInfo with the OID's hash
  return verifiedPem(csr);
}

/** The request as PEM, after checking its signature (a request the CA would reject is not written). */
export function verifiedPem(csr: forge.pki.CertificateSigningRequest): string {
  let ok = false;
  try {
    ok = csr.verify();
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new EkeyCertificateError(
      'the request signature does not verify with the public key in it (the key that signed is not that public key\u2019s private key)',
    );
  }
  return forge.pki.certificationRequestToPem(csr);
}

/** `/CN=…` for messages. */
export function subjectText(subject: forge.pki.CertificateField[]): string {
  return subject.map((a) => `/${a.shortName ?? a.name ?? ''}=${String(a.value)}`).join('');
}

export interface EkeyCsrOptions {
  out: string;
  cn?: string;
  /** A module already loaded in this process (tests); otherwise `[ekey] module` is loaded. */
  module?: Pkcs11Module;
}

export interface EkeyCsrResult {
  out: string;
  subject: string;
  modulusBits: number;
}

/**
 * `nqgw ekey csr`: a PKCS#10 request for the key on the EKey. The public key is read from the
 * token's public-key object (modulus, exponent), the request is signed on the token
 * (CKM_SHA256_RSA_PKCS) after one C_Login with the PIN from the PIN file: a wrong PIN is
 * EkeyPinError (用户名或密码错误) and is not tried again. Written as PEM, 0644, never over an
 * existing file. The PIN is not printed or put into the result.
 */
export function ekeyCertificateRequest(config: TwConfig, opts: EkeyCsrOptions): EkeyCsrResult {
  const settings = ekeySettingsFromConfig(config);
  const subject = requestSubject(config, opts.cn);
  refuseExisting(opts.out); // before the token is touched: a refused run makes no login
  const pin = readPinFile(settings.pinFile);
  applyModuleEnv(settings); // before the module initializes: it reads e.g. SOFTHSM2_CONF then
  const module = opts.module ?? new Pkcs11Module(settings.module);
  // Filled inside the token's session (a holder, because TypeScript does not follow assignments
  // made in a callback).
  const made: { request?: ReturnType<typeof unsignedRequest>; bits?: number } = {};
  const signature = module.signWithKey(settings, pin, pkcs11js.CKM_SHA256_RSA_PKCS, (pub) => {
    const n = new forge.jsbn.BigInteger(pub.modulus.toString('hex'), 16);
    const e = new forge.jsbn.BigInteger(pub.publicExponent.toString('hex'), 16);
    made.bits = n.bitLength();
    made.request = unsignedRequest(subject, forge.pki.setRsaPublicKey(n, e));
    return made.request.info; // CKM_SHA256_RSA_PKCS hashes it on the token
  });
  if (!made.request) throw new AppError('NQ132', 'the token signed without reading the public key');
  const pem = completeRequest(made.request.csr, signature);
  writeNew(opts.out, pem, 0o644);
  return { out: opts.out, subject: subjectText(subject), modulusBits: made.bits ?? 0 };
}
