import forge from 'node-forge';
import { EkeyCertificateError } from './pkcs11-errors.js';

export interface StationCertificate {
  subject: string;
  issuer: string;
  serial: string;
  notBefore: Date;
  notAfter: Date;
  /** RSA modulus, hex (lower case), to match the token's private key. */
  modulusHex: string;
  pem: string;
}

function dn(attrs: forge.pki.CertificateField[]): string {
  return attrs.map((a) => `/${a.shortName ?? a.name ?? a.type}=${String(a.value)}`).join('');
}

/** Parse a DER certificate; a certificate that cannot be parsed is "not the right EKey certificate". */
export function parseCertificate(der: Buffer): StationCertificate {
  let cert: forge.pki.Certificate;
  try {
    cert = forge.pki.certificateFromAsn1(forge.asn1.fromDer(forge.util.createBuffer(der.toString('binary'))));
  } catch (err) {
    throw new EkeyCertificateError(`the certificate on the token cannot be read (${(err as Error).message})`);
  }
  const key = cert.publicKey as forge.pki.rsa.PublicKey;
  return {
    subject: dn(cert.subject.attributes),
    issuer: dn(cert.issuer.attributes),
    serial: cert.serialNumber,
    notBefore: cert.validity.notBefore,
    notAfter: cert.validity.notAfter,
    modulusHex: key.n.toString(16).toLowerCase(),
    pem: forge.pki.certificateToPem(cert),
  };
}

export interface CertificateExpectations {
  stationId: string;
  /** PEM text of the CA(s) that must have issued the station certificate. */
  caPem: string;
  now: Date;
  /** The token's private key modulus (hex), when readable: the certificate must match it. */
  keyModulusHex?: string | null;
}

/**
 * The checks behind `您的Ekey证书有误，请检查是否选择了正确的Ekey证书`: within its validity, issued
 * (signature verified) by the configured CA, naming this station (the station id in the subject,
 * CN or another attribute), and matching the token's private key. Throws EkeyCertificateError
 * whose hint carries the reason; returns the parsed certificate when all hold.
 */
export function checkStationCertificate(der: Buffer, want: CertificateExpectations): StationCertificate {
  const info = parseCertificate(der);
  const cert = forge.pki.certificateFromPem(info.pem);
  if (want.now < info.notBefore) {
    throw new EkeyCertificateError(`the certificate is not valid before ${info.notBefore.toISOString()}`);
  }
  if (want.now > info.notAfter) {
    throw new EkeyCertificateError(`the certificate expired at ${info.notAfter.toISOString()}`);
  }
  const subjectValues = cert.subject.attributes.map((a) => String(a.value));
  if (!subjectValues.some((v) => v === want.stationId || v.includes(want.stationId))) {
    throw new EkeyCertificateError(
      `the certificate's subject ${info.subject} does not name station ${want.stationId}`,
    );
  }
  const cas = pemCertificates(want.caPem);
  const issued = cas.some((ca) => {
    try {
      return ca.verify(cert);
    } catch {
      return false;
    }
  });
  if (!issued) {
    throw new EkeyCertificateError(
      `the certificate (issuer ${info.issuer}) was not issued by the configured CA`,
    );
  }
  if (want.keyModulusHex && stripZeros(want.keyModulusHex) !== stripZeros(info.modulusHex)) {
    throw new EkeyCertificateError('the certificate does not belong to the private key on the token');
  }
  return info;
}

function stripZeros(hex: string): string {
  return hex.toLowerCase().replace(/^0+/, '');
}

function pemCertificates(pem: string): forge.pki.Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  const out: forge.pki.Certificate[] = [];
  for (const b of blocks) {
    try {
      out.push(forge.pki.certificateFromPem(b));
    } catch {
      /* a CA that forge cannot read (not RSA) verifies nothing */
    }
  }
  return out;
}
