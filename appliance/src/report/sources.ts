import { createHash } from 'node:crypto';
import { existsSync, promises as fsp, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { LogSettings, ShipMetrics } from '../logs/index.js';
import { listSegments, shipStatusPath } from '../logs/index.js';
import { AUDIT_FILE, type AuditEntry } from '../ops/index.js';
import { cstDate } from '../shared/index.js';

/**
 * Readers of what the gateway records, for one CST day. Each returns null (or empty) for a source
 * that is not there, and never throws on a line it cannot read: a report about a bad day must
 * still be printable.
 */

/** One line of the structured log (logs room: segments/YYYYMMDD-SEQ.jsonl). */
export interface LoggedLine {
  t: string;
  level: string;
  code?: string;
  text: string;
}

/** The day's structured log lines, from its local segments in sequence order. */
export async function readDayLines(
  settings: LogSettings,
  date: string,
): Promise<{ lines: LoggedLine[]; segments: number }> {
  const segs = listSegments(settings.dir).filter((s) => s.date === date);
  const lines: LoggedLine[] = [];
  for (const seg of segs) {
    let text: string;
    try {
      text = await fsp.readFile(seg.file, 'utf8');
    } catch {
      continue; // pruned between the listing and the read
    }
    for (const raw of text.split('\n')) {
      if (raw.trim() === '') continue;
      try {
        const l = JSON.parse(raw) as LoggedLine;
        if (typeof l.text === 'string') lines.push(l);
      } catch {
        // a torn line at the end of the segment open at a crash
      }
    }
  }
  return { lines, segments: segs.length };
}

/** Operator actions of the day from state_dir/audit.log (time is ISO; the day is CST); a torn line is skipped. */
export function readDayAudit(stateDir: string, date: string): { entries: AuditEntry[]; found: boolean } {
  const file = path.join(stateDir, AUDIT_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { entries: [], found: false };
  }
  const entries: AuditEntry[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const e = JSON.parse(line) as AuditEntry;
      if (cstDate(Date.parse(e.time)) === date) entries.push(e);
    } catch {
      // a line cut by a crash: the API answered 500 for it, the action was not done
    }
  }
  return { entries, found: true };
}

/** The shipper's advisory status file, or null. */
export function readShipStatus(settings: LogSettings): (ShipMetrics & { at: number }) | null {
  try {
    return JSON.parse(readFileSync(shipStatusPath(settings.dir), 'utf8')) as ShipMetrics & { at: number };
  } catch {
    return null;
  }
}

/** The day's end-of-day archives, from the local copies of their manifests. */
export function readDayArchives(
  settings: LogSettings,
  date: string,
): { createdAt: string; files: number; bytes: number }[] {
  const dir = path.join(settings.dir, 'archive');
  if (!existsSync(dir)) return [];
  const out: { createdAt: string; files: number; bytes: number }[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (!name.startsWith(`${date}-`) || !name.endsWith('.manifest.json')) continue;
    try {
      const m = JSON.parse(readFileSync(path.join(dir, name), 'utf8')) as {
        createdAt: string;
        files: { bytes: number }[];
      };
      out.push({
        createdAt: m.createdAt,
        files: m.files.length,
        bytes: m.files.reduce((n, f) => n + f.bytes, 0),
      });
    } catch {
      // a manifest being written: the next report sees it
    }
  }
  return out;
}

/** sha256 of tw.ini's bytes: two replicas with the same file have the same hash. */
export function configSha256(file: string): string {
  return createHash('sha256').update(readFileSync(file)).digest('hex');
}

/** Counts by key. */
export function tally(into: Record<string, number>, key: string, n = 1): void {
  into[key] = (into[key] ?? 0) + n;
}
