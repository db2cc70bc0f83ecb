/**
 * Test PKI made with the openssl CLI in a temp dir: a CA, the main station's server certificate
 * (SAN 127.0.0.1, localhost), a client certificate per CN, and one client certificate from a CA
 * the simulator does not trust. EC P-256 keys keep it quick.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestPki {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  /** Client cert and key paths by CN; 'ROGUE' is signed by an untrusted CA with CN W888888T. */
  clients: Map<string, { cert: string; key: string }>;
}

async function openssl(cwd: string, args: string[]): Promise<void> {
  await run('openssl', args, { cwd });
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

async function makeCa(dir: string, name: string): Promise<void> {
  await openssl(dir, [
    'req',
    '-x509',
    ...EC,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.pem`,
    '-subj',
    `/CN=${name}`,
    '-days',
    '2',
  ]);
}

async function issue(dir: string, ca: string, name: string, cn: string, ext: string): Promise<void> {
  await openssl(dir, ['req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
  await writeFile(join(dir, `${name}.ext`), ext);
  await openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.pem`,
    '-CAkey',
    `${ca}.key`,
    '-set_serial',
    `0x${randomBytes(8).toString('hex')}`,
    '-out',
    `${name}.crt`,
    '-days',
    '2',
    '-extfile',
    `${name}.ext`,
  ]);
}

export async function makeTestPki(clientCns: string[]): Promise<TestPki> {
  const dir = await mkdtemp(join(tmpdir(), 'sim-pki-'));
  await Promise.all([makeCa(dir, 'ca'), makeCa(dir, 'rogueca')]);
  await issue(
    dir,
    'ca',
    'server',
    'mainstation',
    'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n',
  );
  const clients = new Map<string, { cert: string; key: string }>();
  const clientExt = 'extendedKeyUsage=clientAuth\n';
  await Promise.all(clientCns.map((cn) => issue(dir, 'ca', `client-${cn}`, cn, clientExt)));
  for (const cn of clientCns)
    clients.set(cn, { cert: join(dir, `client-${cn}.crt`), key: join(dir, `client-${cn}.key`) });
  await issue(dir, 'rogueca', 'client-ROGUE', 'W888888T', clientExt);
  clients.set('ROGUE', { cert: join(dir, 'client-ROGUE.crt'), key: join(dir, 'client-ROGUE.key') });
  return {
    dir,
    ca: join(dir, 'ca.pem'),
    serverCert: join(dir, 'server.crt'),
    serverKey: join(dir, 'server.key'),
    clients,
  };
}
