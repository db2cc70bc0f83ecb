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
 */
export interface EkeySettings {
  module: string;
  tokenLabel?: string;
  tokenSerial?: string;
  keyIdHex?: string;
  keyLabel?: string;
  pinFile: string;
  engineDir: string;
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
  return {
    module: path(module),
    ...(tokenLabel !== undefined ? { tokenLabel } : {}),
    ...(tokenSerial !== undefined ? { tokenSerial } : {}),
    ...(keyIdHex !== undefined ? { keyIdHex } : {}),
    ...(keyLabel !== undefined ? { keyLabel } : {}),
    pinFile,
    engineDir: path(engineDir),
  };
}
