import { readFileSync, statSync } from 'node:fs';
import { SoftUsageError } from './soft-errors.js';

/**
 * The passphrase under the rules of `[soft] pkcs12_passphrase_file`: owner-only, and one trailing
 * newline is not part of it (SoftTlsCredentials strips it the same way, so `echo pass > file`
 * works for both). An empty passphrase is refused: the file would hold the key unprotected.
 */
export function readPassphraseFile(file: string): string {
  const pass = readSecretFile(file, 'passphrase file')
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (pass === '')
    throw new SoftUsageError(`passphrase file ${file} is empty`, 'Write a passphrase into it.');
  return pass;
}

/** A secret file (key, passphrase): must exist and be readable by its owner only. */
export function readSecretFile(file: string, what: string): Buffer {
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch (err) {
    throw new SoftUsageError(`cannot read ${what} ${file} (${(err as Error).message})`);
  }
  if ((mode & 0o077) !== 0) {
    throw new SoftUsageError(
      `${what} ${file} is readable by others (mode ${(mode & 0o777).toString(8)})`,
      `chmod 600 ${file}`,
    );
  }
  return readFileSync(file);
}
