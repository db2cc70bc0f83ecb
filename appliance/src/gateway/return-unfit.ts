import { promises as fsp } from 'node:fs';
import path from 'node:path';
import type { ReturnFieldIssue } from '../dbf/index.js';
import { fsyncDir } from '../shared/index.js';

/**
 * state_dir/unfit-returns/<trading day>.jsonl: every return the gateway could not write into
 * NQHB.DBF exactly as the main station sent it, with the whole body as received and what was
 * written instead. One JSON object per line, synced before the row goes into NQHB.DBF (so before
 * it is acknowledged): the raw values are never lost, even when the main station will not resend.
 */
export interface UnfitEntry {
  HBXH: number;
  issues: ReturnFieldIssue[];
  /** The return as the main station sent it. */
  body: unknown;
}

export class UnfitReturnLog {
  readonly dir: string;

  constructor(stateDir: string) {
    this.dir = path.join(stateDir, 'unfit-returns');
  }

  fileFor(date: string): string {
    return path.join(this.dir, `${date}.jsonl`);
  }

  /** Appends `entries` (one write, one fdatasync); a new file's name is synced too. */
  async record(date: string, entries: readonly UnfitEntry[], now: number): Promise<void> {
    if (entries.length === 0) return;
    const file = this.fileFor(date);
    const at = new Date(now).toISOString();
    const text = entries
      .map((e) => `${JSON.stringify({ at, HBXH: e.HBXH, issues: e.issues, body: e.body })}\n`)
      .join('');
    const made = await fsp.mkdir(this.dir, { recursive: true, mode: 0o700 });
    let fresh = true;
    try {
      await fsp.access(file);
      fresh = false;
    } catch {
      // not there yet: created below
    }
    const fh = await fsp.open(file, 'a', 0o600);
    try {
      await fh.write(text);
      await fh.datasync();
    } finally {
      await fh.close();
    }
    if (fresh) await fsyncDir(this.dir);
    if (made !== undefined) await fsyncDir(path.dirname(this.dir));
  }
}

/** A value from the main station, for one operator line: JSON, no control characters, capped. */
export function showRaw(value: unknown, max = 120): string {
  const json = value === undefined ? '(无)' : (JSON.stringify(value) ?? String(value));
  // JSON escapes C0 controls; DEL, C1 and the Unicode line breaks are escaped here.
  const safe = json.replace(
    /[\u007f-\u009f\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return safe.length > max ? `${safe.slice(0, max)}…(${safe.length} 字符)` : safe;
}
