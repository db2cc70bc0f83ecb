/** Helpers for the HCL structure tests: every .tf file is parsed with @cdktf/hcl2json. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from '@cdktf/hcl2json';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const TERRAFORM = join(REPO, 'terraform');
export const MODULE_DIR = join(TERRAFORM, 'modules', 'nqgw-replicas');
export const EXAMPLE_DIR = join(TERRAFORM, 'examples', 'dr-vpc');

// hcl2json gives a JSON object whose shape depends on the file; tests walk it structurally.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Hcl = Record<string, any>;

export function listFiles(dir: string, suffix: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) {
      if (name !== '.terraform') out.push(...listFiles(full, suffix));
    } else if (name.endsWith(suffix)) {
      out.push(full);
    }
  }
  return out.sort();
}

export async function parseFile(file: string): Promise<Hcl> {
  return parse(relative(REPO, file), readFileSync(file, 'utf8'));
}

/** All .tf files of one directory (not recursive), merged block type by block type. */
export async function parseDir(dir: string): Promise<Hcl> {
  const merged: Hcl = {};
  const files = readdirSync(dir)
    .filter((n) => n.endsWith('.tf'))
    .map((n) => join(dir, n));
  for (const file of files) {
    const doc = await parseFile(file);
    for (const [kind, body] of Object.entries(doc)) {
      if (Array.isArray(body)) {
        merged[kind] = [...((merged[kind] as unknown[]) ?? []), ...body];
      } else if (kind === 'resource' || kind === 'data') {
        const into = (merged[kind] ??= {}) as Hcl;
        for (const [type, named] of Object.entries(body as Hcl)) {
          into[type] = { ...(into[type] ?? {}), ...(named as Hcl) };
        }
      } else {
        merged[kind] = { ...(merged[kind] ?? {}), ...(body as Hcl) };
      }
    }
  }
  return merged;
}

/** The single block of `resource "type" "name"` (hcl2json wraps each in a one-element list). */
export function resource(doc: Hcl, type: string, name: string): Hcl {
  const list = doc.resource?.[type]?.[name] as Hcl[] | undefined;
  if (!list || list.length !== 1) throw new Error(`resource ${type}.${name} not found exactly once`);
  return list[0] as Hcl;
}

export function resourcesOfType(doc: Hcl, type: string): Array<[string, Hcl]> {
  const named = (doc.resource?.[type] ?? {}) as Record<string, Hcl[]>;
  return Object.entries(named).map(([name, list]) => [name, list[0] as Hcl]);
}

/** Every string inside a parsed value, depth first. */
export function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') return Object.values(value).flatMap(strings);
  return [];
}
