import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, randomBytes, X509Certificate } from 'node:crypto';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
import { DEFAULT_ENGINE_DIRS } from '../ekey/index.js';
import { AppError } from '../shared/index.js';
import type { LabPki } from './certs.js';

/**
 * `nqgw lab init DIR --ekey softhsm`: the station's key on a SoftHSM2 token instead of a PEM
 * file, so the lab (demo, checks) runs the gateway in `[tls] mode = ekey` through the same
 * PKCS#11 module + OpenSSL pkcs11 engine path as a real EKey. Recorded in lab.json as `ekey`.
 */
export interface LabEkey {
  kind: 'softhsm';
  module: string;
  softhsm2Conf: string;
  tokensDir: string;
  tokenLabel: string;
  keyId: string;
  pinFile: string;
  engineDir: string;
}

export const LAB_EKEY_KINDS = ['softhsm'] as const;
export type LabEkeyKind = (typeof LAB_EKEY_KINDS)[number];

const PACKAGES = 'softhsm2 opensc libengine-pkcs11-openssl';
const MODULE_CANDIDATES = [
  '/usr/lib/softhsm/libsofthsm2.so',
  '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so',
];
/** The CKA_ID of the station's key, public key and certificate on the token (tw.ini key_id). */
const KEY_ID = '01';

export interface SofthsmParts {
  module: string;
  engineDir: string;
  softhsmUtil: string;
  pkcs11Tool: string;
}

function onPath(cmd: string): string | null {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter).filter((d) => d !== '')) {
    const file = path.join(dir, cmd);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      /* not in this directory */
    }
  }
  return null;
}

/**
 * Everything the EKey lab needs, found before anything is written: a refusal must leave no
 * half-made lab. Names the Debian package of each missing part.
 */
export function findSofthsmParts(): SofthsmParts {
  const module = MODULE_CANDIDATES.find((p) => existsSync(p)) ?? null;
  const engineDir = DEFAULT_ENGINE_DIRS.find((d) => existsSync(path.join(d, 'pkcs11.so'))) ?? null;
  const softhsmUtil = onPath('softhsm2-util');
  const pkcs11Tool = onPath('pkcs11-tool');
  const missing = [
    module === null ? 'the SoftHSM2 PKCS#11 module libsofthsm2.so (package softhsm2)' : '',
    softhsmUtil === null ? 'softhsm2-util (package softhsm2)' : '',
    pkcs11Tool === null ? 'pkcs11-tool (package opensc)' : '',
    engineDir === null
      ? "OpenSSL's pkcs11 engine engines-3/pkcs11.so (package libengine-pkcs11-openssl)"
      : '',
  ].filter((m) => m !== '');
  if (module === null || engineDir === null || softhsmUtil === null || pkcs11Tool === null) {
    throw new AppError(
      'NQ902',
      `lab init --ekey softhsm: missing ${missing.join('; ')}`,
      `apt-get install ${PACKAGES}, then run the command again (nothing was written).`,
    );
  }
  return { module, engineDir, softhsmUtil, pkcs11Tool };
}

/**
 * The lab directory must be new or empty (so a failure can remove all of it, and no old token
 * with the same label is left in the store), and its path must fit in `module_env`, whose values
 * cannot hold whitespace or commas (nor the INI comment characters).
 */
export function checkEkeyLabDir(dir: string): void {
  if (/[\s,;#]/.test(dir)) {
    throw new AppError(
      'NQ902',
      `lab init --ekey softhsm: the path ${JSON.stringify(dir)} holds a space, comma, ';' or '#'`,
      'tw.ini [ekey] module_env carries the SoftHSM2 configuration path: choose a plain path.',
    );
  }
  if (existsSync(dir) && readdirSync(dir).length > 0) {
    throw new AppError(
      'NQ902',
      `lab init --ekey softhsm: ${dir} is not empty`,
      'Give a new or empty directory (a lab in EKey mode makes its own token store there).',
    );
  }
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv, what: string): void {
  try {
    execFileSync(file, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    // Only the tool's own stderr: the error's message repeats the command line, which for
    // softhsm2-util holds the PINs.
    const stderr = String((err as { stderr?: Buffer }).stderr ?? '').trim();
    throw new AppError(
      'NQ902',
      `${what} failed${stderr ? `: ${stderr}` : ''}`,
      `apt-get install ${PACKAGES}`,
    );
  }
}

/** A PIN of 16 hex digits; SoftHSM2 takes 4 to 255 bytes. */
function randomPin(): string {
  return randomBytes(8).toString('hex');
}

/**
 * DIR/softhsm: softhsm2.conf and its token store, a token labelled with the station id holding
 * the station's private key, public key (Pkcs11Module.read takes the key's modulus from the
 * public object) and certificate under id 01, ekey.pin (0600, no newline: the engine reads
 * pin-source files byte for byte) and so.pin (0600, only for resetting the lab's token). The
 * PEM key file is removed afterwards: the key then lives only on the token.
 */
export function setupSofthsmToken(dir: string, station: string, pki: LabPki, parts: SofthsmParts): LabEkey {
  const home = path.join(dir, 'softhsm');
  const tokensDir = path.join(home, 'tokens');
  mkdirSync(tokensDir, { recursive: true, mode: 0o700 });
  const softhsm2Conf = path.join(home, 'softhsm2.conf');
  writeFileSync(
    softhsm2Conf,
    `# SoftHSM2 store of the nqgw lab (tw.ini [ekey] module_env points here)\n` +
      `directories.tokendir = ${tokensDir}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = true\n`,
  );
  const pin = randomPin();
  const soPin = randomPin();
  const pinFile = path.join(home, 'ekey.pin');
  writeFileSync(pinFile, pin, { mode: 0o600 });
  writeFileSync(path.join(home, 'so.pin'), soPin, { mode: 0o600 });

  // The tools see the lab's store only; the PIN reaches pkcs11-tool through its environment
  // (--pin env:NAME) rather than its command line. softhsm2-util has no such option.
  const env = { ...process.env, SOFTHSM2_CONF: softhsm2Conf, NQGW_LAB_PIN: pin };
  run(
    parts.softhsmUtil,
    ['--init-token', '--free', '--label', station, '--so-pin', soPin, '--pin', pin],
    env,
    'softhsm2-util --init-token',
  );

  const key = createPrivateKey(readFileSync(pki.stationKey));
  const objects: [string, Buffer][] = [
    ['privkey', key.export({ type: 'pkcs8', format: 'der' })],
    ['pubkey', createPublicKey(key).export({ type: 'spki', format: 'der' })],
    ['cert', new X509Certificate(readFileSync(pki.stationCert)).raw],
  ];
  const scratch = path.join(home, 'import.der');
  try {
    for (const [type, der] of objects) {
      writeFileSync(scratch, der, { mode: 0o600 });
      run(
        parts.pkcs11Tool,
        ['--module', parts.module, '--token-label', station, '--login', '--pin', 'env:NQGW_LAB_PIN'].concat([
          '--write-object',
          scratch,
          '--type',
          type,
          '--id',
          KEY_ID,
          '--label',
          station,
        ]),
        env,
        `pkcs11-tool --write-object --type ${type}`,
      );
    }
  } finally {
    rmSync(scratch, { force: true });
  }
  rmSync(pki.stationKey, { force: true });
  return {
    kind: 'softhsm',
    module: parts.module,
    softhsm2Conf,
    tokensDir,
    tokenLabel: station,
    keyId: KEY_ID,
    pinFile,
    engineDir: parts.engineDir,
  };
}

/** tw.ini `[ekey]` of the lab: the token by label, key id 01, the store through module_env. */
export function renderLabEkeySection(ekey: LabEkey, pinFileRel: string): string {
  return `
[ekey]
module = ${ekey.module}
token_label = ${ekey.tokenLabel}
key_id = ${ekey.keyId}
pin_file = ${pinFileRel}
engine_dir = ${ekey.engineDir}
module_env = SOFTHSM2_CONF=${ekey.softhsm2Conf}
`;
}
