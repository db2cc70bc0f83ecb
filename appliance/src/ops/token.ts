import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { AppError } from '../shared/index.js';

/** The API token file is missing, empty, or readable by others than its owner (NQ961). */
export class TokenFileError extends AppError {
  constructor(message: string, hint: string) {
    super('NQ961', message, hint);
  }
}

/**
 * Read the bearer token from its file ([management] token_file). The file must be 0600 or
 * stricter: a token that the group or the world can read is no secret, so the API refuses to
 * start rather than serve with it.
 */
export function readTokenFile(file: string): string {
  let mode: number;
  try {
    mode = statSync(file).mode & 0o777;
  } catch (err) {
    throw new TokenFileError(
      `API token file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      `Create it: head -c 24 /dev/urandom | xxd -p > ${file} && chmod 600 ${file}`,
    );
  }
  if ((mode & 0o077) !== 0) {
    throw new TokenFileError(
      `API token file ${file} is readable by group or others (mode ${mode.toString(8).padStart(4, '0')}); refusing to start the API`,
      `chmod 600 ${file} (and replace the token if others may have read it)`,
    );
  }
  const token = readFileSync(file, 'utf8').trim();
  if (token.length < 16) {
    throw new TokenFileError(
      `API token file ${file} holds no token of at least 16 characters`,
      `Write a long random token into ${file}`,
    );
  }
  return token;
}

/**
 * The token, creating the file (0600, a fresh random token, never overwriting) when it does
 * not exist yet, so a first start on a new VM has a token for the operators to read. An
 * existing file is checked exactly as readTokenFile does.
 */
export function ensureTokenFile(file: string): { token: string; created: boolean } {
  try {
    writeFileSync(file, `${randomBytes(24).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    return { token: readTokenFile(file), created: true };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST')
      return { token: readTokenFile(file), created: false };
    if (err instanceof TokenFileError) throw err;
    throw new TokenFileError(
      `API token file ${file} does not exist and cannot be created: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      `Create it as the gateway's user: head -c 24 /dev/urandom | xxd -p > ${file} && chmod 600 ${file}`,
    );
  }
}

/** Compare a presented token with the real one in constant time. */
export function tokenMatches(expected: string, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}
