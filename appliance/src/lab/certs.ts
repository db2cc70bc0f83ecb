import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AppError } from '../shared/index.js';

/**
 * A throwaway PKI for the loopback lab, made with the openssl command line (on every Debian
 * system and in the image): a test CA, the main station's server certificate and one client
 * certificate per station (CN = station id, as the simulator checks). Keys are written 0600.
 */
export interface LabPki {
  dir: string;
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  stationCert: string;
  stationKey: string;
}

export const LAB_SERVER_NAME = 'mainstation.lab';

/**
 * EC P-256 by default (small, fast). RSA 2048 for a lab in EKey mode: the EKey certificate check
 * (node-forge, like the vendors' RSA EKeys) reads RSA keys only, so the CA that signs the station
 * certificate and the station key on the token must be RSA there.
 */
export type LabKeyType = 'ec' | 'rsa';

function keyArgs(type: LabKeyType): string[] {
  return type === 'rsa'
    ? ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']
    : ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (err) {
    throw new AppError(
      'NQ901',
      `openssl ${args[0]} failed: ${String((err as { stderr?: Buffer }).stderr ?? err)}`,
      'Install openssl (apt-get install openssl) and run the command again.',
    );
  }
}

export function issueCertificate(
  dir: string,
  name: string,
  subject: string,
  ca: { cert: string; key: string },
  extensions: string,
  days = 825,
  keyType: LabKeyType = 'ec',
): { cert: string; key: string } {
  const key = path.join(dir, `${name}.key`);
  const csr = path.join(dir, `${name}.csr`);
  const cert = path.join(dir, `${name}.crt`);
  const ext = path.join(dir, `${name}.ext`);
  writeFileSync(ext, extensions);
  openssl(['genpkey', ...keyArgs(keyType), '-out', key], dir);
  chmodSync(key, 0o600);
  openssl(['req', '-new', '-key', key, '-subj', subject, '-out', csr], dir);
  openssl(
    ['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-days', String(days)]
      .concat(['-sha256', '-extfile', ext, '-out', cert]),
    dir,
  );
  return { cert, key };
}

export function makeLabPki(dir: string, station: string, keyType: LabKeyType = 'ec'): LabPki {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const caKey = path.join(dir, 'ca.key');
  const caCert = path.join(dir, 'ca.crt');
  openssl(['genpkey', ...keyArgs(keyType), '-out', caKey], dir);
  chmodSync(caKey, 0o600);
  openssl(
    ['req', '-x509', '-new', '-key', caKey, '-subj', '/C=CN/O=nqgw lab/CN=nqgw lab CA', '-days', '3650']
      .concat(['-sha256', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=keyCertSign,cRLSign'])
      .concat(['-out', caCert]),
    dir,
  );
  const ca = { cert: caCert, key: caKey };
  const server = issueCertificate(
    dir,
    'mainstation',
    `/C=CN/ST=Guangdong/L=Shenzhen/O=nqgw lab main station/CN=${LAB_SERVER_NAME}`,
    ca,
    `subjectAltName=DNS:${LAB_SERVER_NAME},IP:127.0.0.1\nextendedKeyUsage=serverAuth\n`,
    825,
    keyType,
  );
  const client = issueCertificate(
    dir,
    `station-${station}`,
    `/C=CN/O=nqgw lab broker/CN=${station}`,
    ca,
    'extendedKeyUsage=clientAuth\n',
    825,
    keyType,
  );
  return {
    dir,
    caCert,
    caKey,
    serverCert: server.cert,
    serverKey: server.key,
    stationCert: client.cert,
    stationKey: client.key,
  };
}
