import { generateKeyPairSync } from 'node:crypto';
import forge from 'node-forge';

/** Test PKI built with Node's key generation and node-forge's certificates. */
export interface KeyPair {
  privatePem: string;
  /** PKCS#8 DER, for pkcs11-tool --write-object --type privkey. */
  privateDer: Buffer;
  /** SubjectPublicKeyInfo DER, for pkcs11-tool --type pubkey. */
  publicDer: Buffer;
  forgePrivate: forge.pki.rsa.PrivateKey;
  forgePublic: forge.pki.rsa.PublicKey;
}

export function rsaKey(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  return {
    privatePem,
    privateDer: privateKey.export({ type: 'pkcs8', format: 'der' }),
    publicDer: publicKey.export({ type: 'spki', format: 'der' }),
    forgePrivate: forge.pki.privateKeyFromPem(privatePem) as forge.pki.rsa.PrivateKey,
    forgePublic: forge.pki.publicKeyFromPem(
      publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    ) as forge.pki.rsa.PublicKey,
  };
}

let serial = 1;

export function certificate(opts: {
  cn: string;
  key: KeyPair;
  issuer?: { cert: forge.pki.Certificate; key: KeyPair };
  notBefore?: Date;
  notAfter?: Date;
  ca?: boolean;
  dns?: string;
}): { cert: forge.pki.Certificate; pem: string; der: Buffer } {
  const cert = forge.pki.createCertificate();
  cert.publicKey = opts.key.forgePublic;
  cert.serialNumber = (serial++).toString(16).padStart(2, '0');
  cert.validity.notBefore = opts.notBefore ?? new Date(Date.now() - 3600_000);
  cert.validity.notAfter = opts.notAfter ?? new Date(Date.now() + 30 * 86400_000);
  const subject = [
    { shortName: 'C', value: 'CN' },
    { shortName: 'O', value: 'nqgw test' },
    { shortName: 'CN', value: opts.cn },
  ];
  cert.setSubject(subject);
  cert.setIssuer(opts.issuer ? opts.issuer.cert.subject.attributes : subject);
  const ext: object[] = [{ name: 'basicConstraints', cA: opts.ca === true }];
  if (opts.ca) ext.push({ name: 'keyUsage', keyCertSign: true, cRLSign: true });
  else ext.push({ name: 'keyUsage', digitalSignature: true, keyEncipherment: true });
  if (opts.dns) ext.push({ name: 'subjectAltName', altNames: [{ type: 2, value: opts.dns }] });
  cert.setExtensions(ext);
  cert.sign(opts.issuer ? opts.issuer.key.forgePrivate : opts.key.forgePrivate, forge.md.sha256.create());
  const pem = forge.pki.certificateToPem(cert);
  const der = Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(cert)).getBytes(), 'binary');
  return { cert, pem, der };
}
