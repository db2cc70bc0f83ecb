import { readFileSync, statSync } from 'node:fs';
import { EkeyConfigError } from './pkcs11-errors.js';

/**
 * The EKey PIN from `[ekey] pin_file` (or the systemd credential), under the same rules as
 * `Pkcs11TlsCredentials`: owner-only, not empty, no line break (the engine would read a newline
 * as part of the PIN, so a PIN file that works here must also work there).
 */
export function readPinFile(file: string): string {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (err) {
    throw new EkeyConfigError(`EKey PIN file cannot be read: ${file} (${(err as Error).message})`);
  }
  if ((mode & 0o077) !== 0) {
    throw new EkeyConfigError(
      `EKey PIN file ${file} is readable by others (mode ${(mode & 0o777).toString(8)})`,
      `chmod 600 ${file}`,
    );
  }
  const pin = readFileSync(file, 'utf8');
  if (pin === '') throw new EkeyConfigError(`EKey PIN file ${file} is empty`);
  if (/[\r\n]/.test(pin)) {
    throw new EkeyConfigError(
      `EKey PIN file ${file} contains a line break`,
      `Write the PIN without a newline: printf '%s' 'PIN' > ${file}; chmod 600 ${file}`,
    );
  }
  return pin;
}
