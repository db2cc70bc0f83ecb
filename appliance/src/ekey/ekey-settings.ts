import { existsSync } from 'node:fs';
import { isAbsolute, join, resolve, dirname } from 'node:path';
import type { TwConfig } from '../config/index.js';
import { EkeyConfigError } from './pkcs11-errors.js';

/**
 * tw.ini `[ekey]` (relative paths against the directory of tw.ini). The PIN is never in tw.ini:
 * it comes from a 0600 file or a systemd credential (LoadCredential=, read from
 * $CREDENTIALS_DIRECTORY).
 *
 *   [ekey]
 *   module = /usr/lib/softhsm/libsofthsm2.so  ; the token's PKCS#11 module (the EKey vendor's driver)
 *   token_label = W888888T                    ; find the token by label and/or serial
 *   token_serial =
 *   key_id = 01                               ; CKA_ID of key and certificate, hex; and/or key_label
 *   key_label =
 *   pin_file = /etc/nqgw/ekey.pin             ; 0600; or:
 *   pin_credential = ekey-pin                 ; systemd credential name
 *   engine_dir = /usr/lib/x86_64-linux-gnu/engines-3  ; where OpenSSL's pkcs11 engine (pkcs11.so) is
 *   module_env = SOFTHSM2_CONF=/lab/softhsm/softhsm2.conf  ; environment the module reads (KEY=VALUE, …)
 */
export interface EkeySettings {
  module: string;
  tokenLabel?: string;
  tokenSerial?: string;
  keyIdHex?: string;
  keyLabel?: string;
  pinFile: string;
  engineDir: string;
  /**
   * Environment variables the module reads when it initializes (SoftHSM2: SOFTHSM2_CONF; some
   * vendor drivers: their log or config path). Optional so hand-built settings stay valid.
   */
  moduleEnv?: Record<string, string>;
  /** How often the slot is looked at for hot-plug (`[ekey] poll_ms`, default 1000). */
  pollMs?: number;
  /** More USB ids (`vvvv` or `vvvv:pppp`) whose attach/detach makes the watcher look at once. */
  usbIds?: string[];
}

export const DEFAULT_POLL_MS = 1000;

const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;
/**
 * Set by prepareEngine() from `module` and `engine_dir`: letting module_env set them too would
 * give two sources for one value, and the engine would silently follow whichever ran last.
 */
const ENGINE_OWNED = ['OPENSSL_ENGINES', 'PKCS11_MODULE_PATH'];

/**
 * `[ekey] module_env`: KEY=VALUE pairs separated by commas and/or whitespace. Values therefore
 * cannot hold commas or spaces (paths with them: use a symlink). Each bad entry is a config
 * error naming it, as for the other [ekey] keys.
 */
export function parseModuleEnv(text: string | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of (text ?? '').split(/[\s,]+/).filter((e) => e !== '')) {
    const eq = entry.indexOf('=');
    const name = eq < 0 ? entry : entry.slice(0, eq);
    const value = eq < 0 ? '' : entry.slice(eq + 1);
    if (eq < 0 || value === '') {
      throw new EkeyConfigError(
        `[ekey] module_env: '${entry}' is not KEY=VALUE`,
        'Write module_env = NAME=value[, NAME=value] (e.g. SOFTHSM2_CONF=/etc/softhsm/softhsm2.conf).',
      );
    }
    if (!ENV_NAME.test(name)) {
      throw new EkeyConfigError(
        `[ekey] module_env: '${name}' is not an environment variable name`,
        'Names are upper case letters, digits and _, not starting with a digit.',
      );
    }
    if (ENGINE_OWNED.includes(name)) {
      throw new EkeyConfigError(
        `[ekey] module_env: ${name} is set from [ekey] module / engine_dir`,
        `Delete ${name} from module_env; set [ekey] module or engine_dir instead.`,
      );
    }
    if (Object.prototype.hasOwnProperty.call(env, name)) {
      throw new EkeyConfigError(`[ekey] module_env: ${name} is given twice`);
    }
    env[name] = value;
  }
  return env;
}

/**
 * Put `[ekey] module_env` into process.env. Must run before the module's C_Initialize (it reads
 * its environment then, e.g. SoftHSM2 its SOFTHSM2_CONF) and is inherited by child processes
 * (pkcs11-tool, a restarted gateway), so the operator's shell needs nothing set. The configured
 * value wins over an inherited one: tw.ini is the one place that says which store to use.
 */
export function applyModuleEnv(settings: Pick<EkeySettings, 'moduleEnv'>): void {
  for (const [name, value] of Object.entries(settings.moduleEnv ?? {})) process.env[name] = value;
}

export const DEFAULT_ENGINE_DIRS = [
  '/usr/lib/x86_64-linux-gnu/engines-3',
  '/usr/lib/aarch64-linux-gnu/engines-3',
];

export function ekeySettingsFromConfig(config: TwConfig, env: NodeJS.ProcessEnv = process.env): EkeySettings {
  const raw = config.extra['ekey'] ?? {};
  const base = dirname(config.source);
  const get = (k: string): string | undefined => {
    const v = raw[k]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };
  const path = (v: string): string => (isAbsolute(v) ? v : resolve(base, v));
  const module = get('module');
  if (module === undefined)
    throw new EkeyConfigError(
      '[ekey] module is not set',
      `Set the EKey's PKCS#11 module in ${config.source}.`,
    );
  const tokenLabel = get('token_label');
  const tokenSerial = get('token_serial');
  if (tokenLabel === undefined && tokenSerial === undefined) {
    throw new EkeyConfigError(
      '[ekey] needs token_label or token_serial',
      'Say which token is the station\u2019s EKey.',
    );
  }
  const keyIdHex = get('key_id')?.toLowerCase();
  if (keyIdHex !== undefined && !/^([0-9a-f]{2})+$/.test(keyIdHex)) {
    throw new EkeyConfigError(`[ekey] key_id: expected hex bytes, got '${keyIdHex}'`);
  }
  const keyLabel = get('key_label');
  if (keyIdHex === undefined && keyLabel === undefined) {
    throw new EkeyConfigError(
      '[ekey] needs key_id or key_label',
      'Say which key/certificate on the token to use.',
    );
  }
  let pinFile: string;
  const cred = get('pin_credential');
  const file = get('pin_file');
  if (cred !== undefined) {
    const dir = env['CREDENTIALS_DIRECTORY'];
    if (!dir) {
      throw new EkeyConfigError(
        `[ekey] pin_credential = ${cred} but $CREDENTIALS_DIRECTORY is not set`,
        'Run under systemd with LoadCredential=/LoadCredentialEncrypted=, or use pin_file.',
      );
    }
    pinFile = join(dir, cred);
  } else if (file !== undefined) {
    pinFile = path(file);
  } else {
    throw new EkeyConfigError('[ekey] needs pin_file or pin_credential', 'The PIN never goes into tw.ini.');
  }
  if (raw['pin'] !== undefined) {
    throw new EkeyConfigError(
      '[ekey] pin: the PIN must not be written in tw.ini',
      'Use pin_file (0600) or pin_credential.',
    );
  }
  const engineDir =
    get('engine_dir') ??
    DEFAULT_ENGINE_DIRS.find((d) => existsSync(join(d, 'pkcs11.so'))) ??
    DEFAULT_ENGINE_DIRS[0]!;
  const moduleEnv = parseModuleEnv(get('module_env'));
  const pollText = get('poll_ms');
  const pollMs = pollText === undefined ? DEFAULT_POLL_MS : Number(pollText);
  if (!Number.isInteger(pollMs) || pollMs < 100 || pollMs > 60_000) {
    throw new EkeyConfigError(`[ekey] poll_ms: expected 100..60000 (ms), got '${pollText ?? ''}'`);
  }
  const usbIds = (get('usb_ids') ?? '').split(/[\s,]+/).filter((id) => id !== '');
  const badId = usbIds.find((id) => !/^[0-9a-fA-F]{4}(:[0-9a-fA-F]{4})?$/.test(id));
  if (badId !== undefined) {
    throw new EkeyConfigError(`[ekey] usb_ids: '${badId}' is not vvvv or vvvv:pppp (hex)`, 'lsusb shows the ids.');
  }
  return {
    module: path(module),
    ...(tokenLabel !== undefined ? { tokenLabel } : {}),
    ...(tokenSerial !== undefined ? { tokenSerial } : {}),
    ...(keyIdHex !== undefined ? { keyIdHex } : {}),
    ...(keyLabel !== undefined ? { keyLabel } : {}),
    pinFile,
    engineDir: path(engineDir),
    moduleEnv,
    pollMs,
    usbIds,
  };
}
