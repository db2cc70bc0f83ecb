import { readdirSync, readFileSync, statSync, accessSync, constants, type Stats } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { ConfigProblem } from './errors.js';
import type { TwConfig } from './types.js';

/**
 * Where the secrets tw.ini names really are: the EKey PIN ([ekey] pin_file, or pin_credential
 * with the systemd credential behind it) when [tls] mode = ekey, and the object-storage key files
 * ([logs] access_key_id_file / secret_access_key_file). None of them is ever in tw.ini, Terraform
 * state or user data: an operator places them through the bastion (docs/image.md, "Secrets on the
 * replica"). `nqgw config check` runs this after loading, so a replica whose PIN was never
 * placed, or was written by root where the gateway's user cannot read it, fails the check instead
 * of failing at cutover.
 *
 * The gateway's user is the owner of state_dir (the gateway writes it; the image makes it nqgw's):
 * a 0600 secret must belong to that user, else the gateway cannot read it. Where state_dir does
 * not exist yet, only "exists, not empty, owner-only" is checked.
 */
export interface SecretSourceOptions {
  env?: NodeJS.ProcessEnv;
  /** Drop-ins of nqgw.service, where `LoadCredential=NAME:PATH` lines are looked for. */
  dropInDir?: string;
}

export const NQGW_DROP_IN_DIR = '/etc/systemd/system/nqgw.service.d';

const PIN_HINT =
  'place it through the bastion as the gateway user, owner-only: sudo install -o nqgw -g nqgw -m 0600 /dev/null FILE, then write the PIN with tee (docs/image.md, "Secrets on the replica")';

type Problem = Omit<ConfigProblem, 'file' | 'line'>;

function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

/** Problems of one owner-only secret file, or [] when the gateway can read it. */
function checkSecretFile(
  file: string,
  where: { section: string; key: string },
  gatewayUid: number | null,
  what: string,
  hint: string,
): Problem[] {
  const bad = (message: string, h = hint): Problem[] => [{ ...where, message, hint: h }];
  const st = statOrNull(file);
  if (st === null) return bad(`${what} ${file} does not exist`);
  if (!st.isFile()) return bad(`${what} ${file} is not a regular file`);
  if ((st.mode & 0o077) !== 0) {
    return bad(
      `${what} ${file} is readable by others (mode ${(st.mode & 0o777).toString(8)})`,
      `chmod 600 ${file}`,
    );
  }
  if (st.size === 0) return bad(`${what} ${file} is empty`);
  if (gatewayUid !== null && gatewayUid !== 0 && st.uid !== gatewayUid) {
    return bad(
      `${what} ${file} belongs to uid ${st.uid}, but the gateway runs as uid ${gatewayUid} (the owner of state_dir) and cannot read an owner-only file of another user`,
      `chown the file to the gateway's user, e.g. sudo chown nqgw: ${file} (keep mode 0600)`,
    );
  }
  // Not root: whether this process can read it is the question the gateway will ask too.
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    try {
      accessSync(file, constants.R_OK);
    } catch {
      return bad(`${what} ${file} cannot be read by this user`);
    }
  }
  return [];
}

/** `LoadCredential=NAME:PATH` (or LoadCredentialEncrypted=) in nqgw.service's drop-ins. */
function credentialSource(name: string, dropInDir: string): string | null {
  let files: string[];
  try {
    files = readdirSync(dropInDir).filter((f) => f.endsWith('.conf'));
  } catch {
    return null;
  }
  for (const f of files.sort()) {
    const text = readFileSync(join(dropInDir, f), 'utf8');
    for (const m of text.matchAll(/^\s*LoadCredential(?:Encrypted)?\s*=\s*([^:\s]+):(\S+)\s*$/gm)) {
      if (m[1] === name) return m[2]!;
    }
  }
  return null;
}

function checkPin(
  raw: Record<string, string>,
  base: string,
  gatewayUid: number | null,
  opts: Required<SecretSourceOptions>,
): Problem[] {
  const get = (k: string): string | undefined => {
    const v = raw[k]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  if (raw['pin'] !== undefined) {
    return [
      {
        section: 'ekey',
        key: 'pin',
        message: 'the PIN must never be written in tw.ini',
        hint: 'delete the line; give pin_file (owner nqgw, 0600) or pin_credential',
      },
    ];
  }
  const cred = get('pin_credential');
  const file = get('pin_file');
  if (cred !== undefined) {
    const where = { section: 'ekey', key: 'pin_credential' };
    const dir = opts.env['CREDENTIALS_DIRECTORY'];
    // Under systemd the credential is a file in $CREDENTIALS_DIRECTORY, readable by the unit.
    if (dir) return checkSecretFile(join(dir, cred), where, null, 'EKey PIN credential', PIN_HINT);
    const source = credentialSource(cred, opts.dropInDir);
    if (source === null) {
      return [
        {
          ...where,
          message: `pin_credential = ${cred}, but no drop-in of nqgw.service loads it (no LoadCredential=${cred}:PATH in ${opts.dropInDir})`,
          hint: `systemctl edit nqgw: [Service] LoadCredential=${cred}:/etc/nqgw/ekey.pin (systemd reads the file as root at each start), or use pin_file`,
        },
      ];
    }
    // systemd reads the source as root: it must exist and hold something; root 0600 is right.
    return checkSecretFile(
      source,
      where,
      null,
      `EKey PIN credential source (LoadCredential=${cred})`,
      PIN_HINT,
    );
  }
  if (file !== undefined) {
    const path = isAbsolute(file) ? file : resolve(base, file);
    const problems = checkSecretFile(
      path,
      { section: 'ekey', key: 'pin_file' },
      gatewayUid,
      'EKey PIN file',
      PIN_HINT,
    );
    if (problems.length === 0 && /[\r\n]/.test(readFileSync(path, 'utf8'))) {
      problems.push({
        section: 'ekey',
        key: 'pin_file',
        message: `EKey PIN file ${path} contains a line break (the engine would take it as part of the PIN)`,
        hint: `write the PIN without a newline: read -rsp 'EKey PIN: ' pin && printf '%s' "$pin" | sudo tee ${path} >/dev/null`,
      });
    }
    return problems;
  }
  return [
    {
      section: 'ekey',
      key: null,
      message: '[tls] mode = ekey, but [ekey] gives neither pin_file nor pin_credential',
      hint: 'add pin_file = /etc/nqgw/ekey.pin (owner nqgw, mode 0600) or pin_credential = NAME (docs/image.md)',
    },
  ];
}

/** Every problem with the secret files tw.ini names (each without file and line). */
export function checkSecretSources(cfg: TwConfig, options: SecretSourceOptions = {}): ConfigProblem[] {
  const opts: Required<SecretSourceOptions> = {
    env: options.env ?? process.env,
    dropInDir: options.dropInDir ?? NQGW_DROP_IN_DIR,
  };
  const base = dirname(cfg.source);
  const gatewayUid = cfg.files.stateDir === '' ? null : (statOrNull(cfg.files.stateDir)?.uid ?? null);
  const problems: Problem[] = [];
  if (cfg.tls.mode === 'ekey') problems.push(...checkPin(cfg.extra['ekey'] ?? {}, base, gatewayUid, opts));
  const logs = cfg.extra['logs'] ?? {};
  for (const key of ['access_key_id_file', 'secret_access_key_file']) {
    const v = logs[key]?.trim();
    if (!v) continue;
    const path = isAbsolute(v) ? v : resolve(base, v);
    problems.push(
      ...checkSecretFile(
        path,
        { section: 'logs', key },
        gatewayUid,
        'object-storage key file',
        `place it through the bastion: sudo install -o nqgw -g nqgw -m 0600 /dev/null ${path}, then write the key with tee (docs/image.md)`,
      ),
    );
  }
  return problems.map((p) => ({ file: cfg.source, line: null, ...p }));
}
