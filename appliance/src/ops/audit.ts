import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { fsyncDirSync } from '../shared/index.js';

/** One operator action, as written to state_dir/audit.log (one JSON object a line). */
export interface AuditEntry {
  time: string;
  operator: string;
  /** The second person (复核人) named for two-person duty; absent when none was named. */
  checker?: string;
  source: string;
  action: string;
  args?: Record<string, unknown>;
  result: 'ok' | 'refused' | 'failed';
  detail?: string;
  /**
   * Cutover, drills, lock take-over, fail-back and softkey (issue 13): who approved (批准人: the
   * emergency command group's leader or an authorised IT head, seed 002 §4.3), and whether one was
   * named ('no approver' when tw.ini does not require one and none was given).
   */
  approver?: string;
  approval?: 'approved' | 'no approver';
  /** The outcome's timings (ms, and the fault time as ISO) for cutover and drills. */
  timings?: Record<string, number | string | null>;
}

export const AUDIT_FILE = 'audit.log';

/**
 * The append-only audit log of operator actions. The file is opened with O_APPEND (never
 * truncated, never rewritten), each entry is one write of one line, and each is fsynced before
 * the API answers, so an action the operator saw succeed is on disk.
 */
export class AuditLog {
  private fd: number | null;

  constructor(readonly file: string) {
    mkdirSync(path.dirname(file), { recursive: true });
    this.fd = openSync(file, 'a', 0o600);
    // The entries are fsynced one by one; the file's name must be durable too, or a power cut
    // right after the first action could leave entries nobody can find.
    fsyncDirSync(path.dirname(file));
  }

  static inStateDir(stateDir: string): AuditLog {
    return new AuditLog(path.join(stateDir, AUDIT_FILE));
  }

  append(entry: AuditEntry): void {
    if (this.fd === null) throw new Error(`audit log ${this.file} is closed`);
    writeSync(this.fd, `${JSON.stringify(entry)}\n`);
    fsyncSync(this.fd);
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

/** Every entry of an audit log file (tests, `nqgw` tooling). */
export function readAuditLog(file: string): AuditEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as AuditEntry);
}
