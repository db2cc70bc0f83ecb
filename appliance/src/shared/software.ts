import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError } from './errors.js';
import { findUp } from './findup.js';

/**
 * The software's name and version live in package.json and nowhere else: `nqgw version`, the
 * welcome lines (NQ253/NQ207), the logon message, the fleet table and the daily report all read
 * them here. package.json is found by walking up from this module, so the sources (vitest), the
 * build (dist/) and the installed bundle (/opt/nqgw, scripts/bundle.sh ships package.json) agree.
 */
export interface Software {
  /** package.json "name": `nqgw`. */
  readonly name: string;
  /** package.json "version": `0.1.0`. */
  readonly version: string;
  /** `nqgw 0.1.0`: what operators and the fleet table see. */
  readonly text: string;
}

/** package.json missing or without a name and version: the installation is broken. */
export class SoftwareIdError extends AppError {
  constructor(
    readonly file: string | null,
    detail: string,
  ) {
    super(
      'SOFTWARE_ID',
      `cannot tell the software's name and version: ${detail}`,
      'reinstall the appliance bundle (it carries package.json beside bin/ and dist/)',
    );
  }
}

let cached: Software | null = null;

/** Name and version out of a package.json's text; `file` only names it in an error. */
export function parseSoftware(text: string, file: string): Software {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new SoftwareIdError(file, `${file} is not JSON (${(err as Error).message})`);
  }
  const { name, version } = (doc ?? {}) as { name?: unknown; version?: unknown };
  if (typeof name !== 'string' || name === '' || typeof version !== 'string' || version === '') {
    throw new SoftwareIdError(file, `${file} has no "name" and "version"`);
  }
  return { name, version, text: `${name} ${version}` };
}

/** This build's name and version, read from package.json once per process. */
export function software(): Software {
  if (cached) return cached;
  const file = findUp(path.dirname(fileURLToPath(import.meta.url)), 'package.json');
  if (file === null) throw new SoftwareIdError(null, 'no package.json above the program');
  cached = parseSoftware(readFileSync(file, 'utf8'), file);
  return cached;
}
