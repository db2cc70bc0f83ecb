import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { readFile, rm } from 'node:fs/promises';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { fsyncDir, replaceDurably } from '../shared/index.js';

const gzipAsync = promisify(gzip);
import { listSegments, seqName, type SegmentRef } from './segments.js';

/** What is sealed with each spooled segment; the .gz must match gzSha256 before it is sent. */
export interface SpoolEntry {
  seq: number;
  date: string;
  key: string;
  lines: number;
  firstTime: number;
  rawBytes: number;
  rawSha256: string;
  gzBytes: number;
  gzSha256: string;
  /** Base64, as the Content-MD5 header wants it. */
  gzMd5: string;
}

export interface SpoolOptions {
  dir: string;
  maxBytes: number;
  /** Object key of a segment: prefix/station/host/date/seq.jsonl.gz. */
  keyFor: (seg: SegmentRef) => string;
}

export const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
export const md5b64 = (b: Buffer): string => createHash('md5').update(b).digest('base64');

function firstLineTime(raw: Buffer, fallback: number): number {
  const nl = raw.indexOf(0x0a);
  try {
    const t = (JSON.parse(raw.subarray(0, nl < 0 ? raw.length : nl).toString('utf8')) as { t?: string }).t;
    const ms = t ? Date.parse(t) : NaN;
    return Number.isFinite(ms) ? ms : fallback;
  } catch {
    return fallback;
  }
}

/**
 * The spool: closed segments gzipped and sealed (checksums in a .json beside each .gz, both
 * fsynced) waiting for upload, bounded by maxBytes. `ship-state.json` records the highest
 * sequence sealed, so a restart seals exactly the segments that were not, in order.
 * Policy when full ("hold"): a closed segment that does not fit stays in the local log directory
 * (it is already on disk, fsynced) and is sealed as soon as uploads make room. Nothing is dropped.
 */
export class Spool {
  readonly spoolDir: string;
  private readonly stateFile: string;
  private sealedThrough: number;
  private sealing: Promise<number> | null = null;
  private readonly sealed = new Map<number, SpoolEntry>();

  constructor(private readonly options: SpoolOptions) {
    this.spoolDir = path.join(options.dir, 'spool');
    this.stateFile = path.join(options.dir, 'ship-state.json');
    mkdirSync(this.spoolDir, { recursive: true });
    this.sealedThrough = existsSync(this.stateFile)
      ? (JSON.parse(readFileSync(this.stateFile, 'utf8')) as { sealedThrough: number }).sealedThrough
      : 0;
    // A .json whose .gz is gone was shipped just before a crash. A .json that cannot be read
    // is set aside and its segment sealed again (safe: same key, and HEAD finds it if shipped).
    for (const name of readdirSync(this.spoolDir).sort()) {
      const file = path.join(this.spoolDir, name);
      if (name.endsWith('.tmp')) rmSync(file, { force: true });
      if (!/^\d{12}\.json$/.test(name)) continue;
      if (!existsSync(file.replace(/\.json$/, '.jsonl.gz'))) {
        rmSync(file, { force: true });
        continue;
      }
      try {
        const entry = JSON.parse(readFileSync(file, 'utf8')) as SpoolEntry;
        this.sealed.set(entry.seq, entry);
      } catch {
        mkdirSync(path.join(this.spoolDir, 'corrupt'), { recursive: true });
        renameSync(file, path.join(this.spoolDir, 'corrupt', name));
        this.sealedThrough = Math.min(this.sealedThrough, Number(name.slice(0, 12)) - 1);
      }
    }
  }

  /**
   * Highest sequence sealed, as this spool sees it (below ship-state.json after a bad seal was
   * set aside): retention deletes nothing above it, so it never races sealHeld for a file.
   */
  get sealedThroughSeq(): number {
    return this.sealedThrough;
  }

  /** Highest sequence number the spool knows of (sealed or held). */
  get highestSeq(): number {
    return Math.max(this.sealedThrough, ...this.sealed.keys());
  }

  /** Sealed segments waiting, lowest sequence first (kept in memory, mirrored on disk). */
  entries(): SpoolEntry[] {
    return [...this.sealed.values()].sort((a, b) => a.seq - b.seq);
  }

  bytes(): number {
    return this.entries().reduce((sum, e) => sum + e.gzBytes, 0);
  }

  /** Closed local segments not sealed yet (held by the full policy, or closed just now). */
  held(openSeq: number | null): SegmentRef[] {
    return listSegments(this.options.dir).filter(
      (s) => s.seq > this.sealedThrough && (openSeq === null || s.seq < openSeq),
    );
  }

  /**
   * Seal held segments in order while they fit. Resolves to how many stay held for lack of room.
   * An empty segment is marked sealed without spooling anything. gzip, reads and syncs run in
   * the thread pool, so the gateway's event loop is not held up; one sealing at a time.
   */
  sealPending(openSeq: number | null, now: number, afterEach?: () => void): Promise<number> {
    this.sealing ??= this.sealHeld(openSeq, now, afterEach).finally(() => {
      this.sealing = null;
    });
    return this.sealing;
  }

  private async sealHeld(openSeq: number | null, now: number, afterEach?: () => void): Promise<number> {
    const held = this.held(openSeq);
    let used = this.bytes();
    for (let i = 0; i < held.length; i++) {
      const seg = held[i]!;
      const raw = await readFile(seg.file);
      const gz = raw.length ? await gzipAsync(raw) : Buffer.alloc(0);
      if (raw.length && used > 0 && used + gz.length > this.options.maxBytes) return held.length - i;
      if (raw.length) await this.seal(seg, raw, gz, now);
      used += gz.length;
      this.sealedThrough = seg.seq;
      await replaceDurably(this.stateFile, JSON.stringify({ sealedThrough: seg.seq }));
      afterEach?.();
    }
    return 0;
  }

  private async seal(seg: SegmentRef, raw: Buffer, gz: Buffer, now: number): Promise<SpoolEntry> {
    const base = path.join(this.spoolDir, seqName(seg.seq));
    let lines = 0;
    for (let at = raw.indexOf(0x0a); at >= 0; at = raw.indexOf(0x0a, at + 1)) lines++;
    const entry: SpoolEntry = {
      seq: seg.seq,
      date: seg.date,
      key: this.options.keyFor(seg),
      lines,
      firstTime: firstLineTime(raw, now),
      rawBytes: raw.length,
      rawSha256: sha256(raw),
      gzBytes: gz.length,
      gzSha256: sha256(gz),
      gzMd5: md5b64(gz),
    };
    await replaceDurably(`${base}.jsonl.gz`, gz);
    await replaceDurably(`${base}.json`, JSON.stringify(entry));
    this.sealed.set(entry.seq, entry);
    return entry;
  }

  /** The sealed body of an entry, checked against its checksum; a bad one is resealed from the local segment. */
  async body(entry: SpoolEntry): Promise<{ gz: Buffer; entry: SpoolEntry }> {
    const file = path.join(this.spoolDir, `${seqName(entry.seq)}.jsonl.gz`);
    const gz = await readFile(file);
    if (sha256(gz) === entry.gzSha256) return { gz, entry };
    mkdirSync(path.join(this.spoolDir, 'corrupt'), { recursive: true });
    renameSync(file, path.join(this.spoolDir, 'corrupt', `${seqName(entry.seq)}.jsonl.gz`));
    const seg = listSegments(this.options.dir).find((s) => s.seq === entry.seq);
    const raw = seg ? await readFile(seg.file) : null;
    if (!raw || sha256(raw) !== entry.rawSha256)
      throw new Error(`spool segment ${entry.seq} is corrupt and its local segment is gone or changed`);
    const again = await gzipAsync(raw);
    return { gz: again, entry: await this.seal(seg!, raw, again, entry.firstTime) };
  }

  /** Shipped: remove the body first, then the seal (a lone seal means "shipped"). */
  async remove(entry: SpoolEntry): Promise<void> {
    const base = path.join(this.spoolDir, seqName(entry.seq));
    this.sealed.delete(entry.seq);
    await rm(`${base}.jsonl.gz`, { force: true });
    await fsyncDir(this.spoolDir);
    await rm(`${base}.json`, { force: true });
  }

  /** Oldest line not shipped yet (spool or held), in ms since the epoch, or null. */
  oldestUnshipped(openSeq: number | null): number | null {
    const first = this.entries()[0];
    if (first) return first.firstTime;
    const held = this.held(openSeq)[0];
    if (!held) return null;
    return firstLineTime(readFileSync(held.file).subarray(0, 4096), statSync(held.file).mtimeMs);
  }
}
