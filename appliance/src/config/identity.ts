import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { TwConfig } from './types.js';

/**
 * What "the same configuration" means between replicas: every setting of tw.ini as the gateway
 * reads it (so comments, spacing and key order do not count), less what is each replica's own by
 * design: the management listen address (its fixed IP) and where the file itself lies. One hash
 * for the whole, one per section so that a difference can be named.
 */
export interface ConfigIdentity {
  hash: string;
  sections: Record<string, string>;
  /** sha256 of tw.ini's bytes (the daily report's), for matching a file copied by hand. */
  fileSha256: string;
}

/**
 * Values as the comparison sees them: a path inside tw.ini's directory counts as relative to it,
 * so /etc/nqgw/api.token on one replica and on the other are the same setting, and so are two
 * copies of a lab folder.
 */
function canonical(value: unknown, dir: string): string {
  if (typeof value === 'string' && path.isAbsolute(value) && value.startsWith(`${dir}${path.sep}`))
    return JSON.stringify(`./${path.relative(dir, value)}`);
  if (Array.isArray(value)) return `[${value.map((v) => canonical(v, dir)).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v, dir)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const sha256 = (text: string | Buffer): string => createHash('sha256').update(text).digest('hex');

export function configIdentity(config: TwConfig): ConfigIdentity {
  const { source, management, extra, ...rest } = config;
  const { host: _ownAddress, ...sharedManagement } = management;
  const parts: Record<string, unknown> = { ...rest, management: sharedManagement };
  for (const [name, values] of Object.entries(extra)) parts[name] = values;
  const dir = path.dirname(source);
  const sections: Record<string, string> = {};
  for (const name of Object.keys(parts).sort())
    sections[name] = sha256(canonical(parts[name], dir)).slice(0, 16);
  return { hash: sha256(canonical(sections, dir)), sections, fileSha256: sha256(readFileSync(source)) };
}
