import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EkeySettings } from '../../../appliance/src/ekey/index.js';

export const SOFTHSM_MODULE = [
  '/usr/lib/softhsm/libsofthsm2.so',
  '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
].find((p) => existsSync(p));
export const ENGINE_DIR = [
  '/usr/lib/x86_64-linux-gnu/engines-3',
  '/usr/lib/aarch64-linux-gnu/engines-3',
].find((d) => existsSync(join(d, 'pkcs11.so')));

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** Why the real-token tests cannot run here, or null when they can. */
export function softhsmMissing(): string | null {
  if (!SOFTHSM_MODULE) return 'softhsm2 is not installed (scripts/ci-deps/ekey.sh)';
  if (!has('softhsm2-util')) return 'softhsm2-util is not installed';
  if (!has('pkcs11-tool')) return 'opensc (pkcs11-tool) is not installed';
  if (!ENGINE_DIR) return 'libengine-pkcs11-openssl is not installed';
  return null;
}

/** A SoftHSM2 store in `dir`; sets SOFTHSM2_CONF for this process (and its children). */
export function softhsmStore(dir: string): { conf: string; tokens: string } {
  const tokens = join(dir, 'tokens');
  mkdirSync(tokens, { recursive: true });
  const conf = join(dir, 'softhsm2.conf');
  writeFileSync(
    conf,
    `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = true\n`,
  );
  process.env['SOFTHSM2_CONF'] = conf;
  return { conf, tokens };
}

export function initToken(label: string, pin: string): void {
  execFileSync(
    'softhsm2-util',
    ['--init-token', '--free', '--label', label, '--so-pin', '87654321', '--pin', pin],
    {
      stdio: 'pipe',
    },
  );
}

/** Write one object with pkcs11-tool (the way an operator loads a token). */
export function writeObject(
  label: string,
  pin: string,
  file: string,
  type: 'privkey' | 'pubkey' | 'cert',
  idHex: string,
  objLabel: string,
): void {
  execFileSync(
    'pkcs11-tool',
    [
      '--module',
      SOFTHSM_MODULE ?? '',
      '--token-label',
      label,
      '--login',
      '--pin',
      pin,
      '--write-object',
      file,
      '--type',
      type,
      '--id',
      idHex,
      '--label',
      objLabel,
    ],
    { stdio: 'pipe' },
  );
}

/**
 * A token `label` holding the station's key pair and certificate under id 01 (the way an EKey
 * comes), with a 0600 PIN file in `dir`; the EkeySettings that find it.
 */
export function stationToken(
  dir: string,
  label: string,
  pin: string,
  keys: { privateDer: Buffer; publicDer: Buffer },
  certDer: Buffer,
): EkeySettings {
  initToken(label, pin);
  for (const [name, data, type] of [
    [`${label}.key.der`, keys.privateDer, 'privkey'],
    [`${label}.pub.der`, keys.publicDer, 'pubkey'],
    [`${label}.crt.der`, certDer, 'cert'],
  ] as const) {
    writeFileSync(join(dir, name), data);
    writeObject(label, pin, join(dir, name), type, '01', 'station');
  }
  const pinFile = join(dir, `${label}.pin`);
  writeFileSync(pinFile, pin, { mode: 0o600 });
  return {
    module: SOFTHSM_MODULE ?? '',
    tokenLabel: label,
    keyIdHex: '01',
    pinFile,
    engineDir: ENGINE_DIR ?? '',
  };
}

/**
 * A tw.ini in EKey mode for the token tests, at `file`: one station, one server, the `[ekey]`
 * section for SoftHSM2 (plus `module_env` when `softhsm2Conf` is given, as `lab init --ekey`
 * writes it).
 */
export function ekeyIni(
  file: string,
  o: { station: string; ca: string; token: string; keyId: string; pinFile: string; softhsm2Conf?: string },
): string {
  writeFileSync(
    file,
    [
      '[station]',
      `id = ${o.station}`,
      'units = 729900',
      '[files]',
      'orders = NQWT.DBF',
      'returns = NQHB.DBF',
      '[servers]',
      'server1 = 127.0.0.1:7043',
      '[tls]',
      'mode = ekey',
      `ca = ${o.ca}`,
      '[ekey]',
      `module = ${SOFTHSM_MODULE ?? ''}`,
      `token_label = ${o.token}`,
      `key_id = ${o.keyId}`,
      `pin_file = ${o.pinFile}`,
      ...(o.softhsm2Conf !== undefined ? [`module_env = SOFTHSM2_CONF=${o.softhsm2Conf}`] : []),
      '',
    ].join('\n'),
  );
  return file;
}
