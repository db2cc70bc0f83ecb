import { statSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import type { ConfigProblem } from './errors.js';
import type { IniDocument, IniEntry, IniSection } from './ini.js';
import { checkBool, checkHostPort, checkInt, type Check } from './checks.js';

/** What must be on disk for a path setting. */
export type PathRule =
  /** A regular file that must exist (certificates, keys). */
  | 'file'
  /** The file may not exist yet, but its directory must (NQWT.DBF, NQHB.DBF, flag files). */
  | 'directory-of'
  /** A directory the gateway creates if needed: if present it must be a directory, else its parent must exist. */
  | 'creatable-directory';

/** Everything the checks of one tw.ini share: where it is, what it says, what is wrong so far. */
export class ReadContext {
  readonly problems: ConfigProblem[] = [];

  constructor(
    /** The path as given (used in messages). */
    readonly file: string,
    /** Directory of tw.ini: relative paths resolve against it. */
    readonly dir: string,
    readonly doc: IniDocument,
  ) {}

  add(problem: Omit<ConfigProblem, 'file'>): void {
    this.problems.push({ file: this.file, ...problem });
  }

  section(name: string): SectionReader {
    return new SectionReader(this, name);
  }
}

/**
 * Typed reads of one section. Every read either returns a usable value (possibly the default) or
 * records a problem against the key's line and returns a placeholder, so that checking goes on
 * and all problems are reported together.
 */
export class SectionReader {
  readonly ini: IniSection | undefined;

  constructor(
    readonly ctx: ReadContext,
    readonly name: string,
  ) {
    this.ini = ctx.doc.sections.get(name);
  }

  entry(key: string): IniEntry | undefined {
    return this.ini?.entries.get(key);
  }

  /** The value, or undefined when the key is absent or empty (`key =` means "not set"). */
  value(key: string): string | undefined {
    const v = this.entry(key)?.value;
    return v === undefined || v === '' ? undefined : v;
  }

  /** Line of the key; of the section header when the key is absent; null when both are. */
  lineOf(key: string): number | null {
    return this.entry(key)?.line ?? (this.ini ? this.ini.line || null : null);
  }

  problem(key: string | null, message: string, hint: string, line?: number | null): void {
    this.ctx.add({
      line: line === undefined ? (key === null ? (this.ini?.line ?? null) : this.lineOf(key)) : line,
      section: this.name,
      key,
      message,
      hint,
    });
  }

  /** A value that must be given; records "not set" and returns undefined otherwise. */
  required(key: string, hint: string): string | undefined {
    const v = this.value(key);
    if (v === undefined) {
      const where = this.ini ? '' : ` (there is no [${this.name}] section)`;
      this.problem(key, `not set${where}`, hint);
    }
    return v;
  }

  private checked<T>(key: string, fallback: T, check: (text: string) => Check<T>, hint: string): T {
    const v = this.value(key);
    if (v === undefined) return fallback;
    const r = check(v);
    if (r.ok) return r.value;
    this.problem(key, r.reason, hint);
    return fallback;
  }

  int(key: string, fallback: number, min: number, max: number, hint?: string): number {
    return this.checked(
      key,
      fallback,
      (t) => checkInt(t, min, max),
      hint ?? `write a whole number from ${min} to ${max}, or delete the line for the default ${fallback}`,
    );
  }

  bool(key: string, fallback: boolean): boolean {
    return this.checked(
      key,
      fallback,
      checkBool,
      `write true or false, or delete the line for the default ${fallback}`,
    );
  }

  hostPort(key: string, fallback: string, hint: string): { host: string; port: number } {
    const defaultValue = checkHostPort(fallback);
    if (!defaultValue.ok) throw new Error(`bad built-in default for ${this.name}.${key}`);
    return this.checked(key, defaultValue.value, checkHostPort, hint);
  }

  /**
   * A path: resolved against tw.ini's directory and checked on disk by `rule`. Returns null when
   * the key is absent or empty and there is no default. `createdDir` (the state directory) may be
   * missing: the gateway creates it, so files under it pass the directory check.
   */
  path(key: string, rule: PathRule, hint: string, fallback?: string, createdDir?: string): string | null {
    const given = this.value(key) ?? fallback;
    if (given === undefined) return null;
    const abs = resolve(this.ctx.dir, given);
    // A file inside the state directory is fine before that directory exists: the gateway makes it.
    const inCreated = rule === 'directory-of' && createdDir !== undefined && isInside(abs, createdDir);
    const reason = inCreated ? null : pathReason(given, abs, rule);
    if (reason !== null) this.problem(key, reason, hint);
    return abs;
  }
}

function isInside(file: string, dir: string): boolean {
  const r = relative(dir, file);
  return r !== '' && !r.startsWith('..') && !isAbsolute(r);
}

function kind(p: string): 'file' | 'directory' | 'other' | 'missing' {
  const st = statSync(p, { throwIfNoEntry: false });
  if (!st) return 'missing';
  return st.isFile() ? 'file' : st.isDirectory() ? 'directory' : 'other';
}

function pathReason(given: string, abs: string, rule: PathRule): string | null {
  const shown = given === abs ? `"${abs}"` : `"${given}" (${abs})`;
  switch (rule) {
    case 'file': {
      const k = kind(abs);
      if (k === 'file') return null;
      return k === 'missing' ? `${shown} does not exist` : `${shown} is not a regular file`;
    }
    case 'directory-of': {
      const k = kind(abs);
      if (k === 'directory') return `${shown} is a directory, not a file`;
      const dir = dirname(abs);
      const kd = kind(dir);
      if (kd === 'directory') return null;
      return kd === 'missing'
        ? `the directory ${dir} of ${shown} does not exist`
        : `${dir} (the directory of ${shown}) is not a directory`;
    }
    case 'creatable-directory': {
      const k = kind(abs);
      if (k === 'directory') return null;
      if (k !== 'missing') return `${shown} exists and is not a directory`;
      const parent = dirname(abs);
      return kind(parent) === 'directory'
        ? null
        : `${shown} does not exist and neither does its parent directory ${parent}`;
    }
  }
}
