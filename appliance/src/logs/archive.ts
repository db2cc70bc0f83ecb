import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { TwConfig } from '../config/index.js';
import { cstDate, cstTime, replaceDurably, systemClock, type Clock } from '../shared/index.js';
import { listSegments } from './segments.js';
import type { LogSettings } from './settings.js';
import { md5b64, sha256 } from './spool.js';
import type { ObjectStore } from './store.js';

export interface ManifestFile {
  /** Name inside the set: NQWT.DBF, NQHB.DBF, journal/DATE.jnl, logs/SEGMENT.jsonl. */
  name: string;
  key: string;
  bytes: number;
  sha256: string;
}

export interface ArchiveManifest {
  station: string;
  host: string;
  date: string;
  createdAt: string;
  files: ManifestFile[];
}

export interface ArchiveResult {
  manifestKey: string;
  manifest: ArchiveManifest;
  localManifest: string;
}

/** The files of one day's set: name inside the set and the local path. */
export function archiveFiles(
  config: TwConfig,
  settings: LogSettings,
  date: string,
): { name: string; file: string }[] {
  const out: { name: string; file: string }[] = [];
  for (const file of [config.files.orders, config.files.returns]) {
    if (existsSync(file)) out.push({ name: path.basename(file), file });
  }
  const jdir = path.join(config.files.stateDir, 'journal');
  if (existsSync(jdir)) {
    for (const name of readdirSync(jdir).sort())
      if (name.endsWith('.jnl')) out.push({ name: `journal/${name}`, file: path.join(jdir, name) });
  }
  for (const seg of listSegments(settings.dir)) {
    if (seg.date === date) out.push({ name: `logs/${path.basename(seg.file)}`, file: seg.file });
  }
  return out;
}

/**
 * The end-of-day set: NQWT.DBF, NQHB.DBF, the journal and the day's log segments under
 * prefix/station/host/archive/DATE/HHMMSS/, then manifest.json with every file's sha256 (last,
 * so a set with a manifest is a whole set). Each file is read once into a buffer: what is
 * checksummed is exactly what is sent. HEAD before PUT, as for segments.
 */
export async function uploadArchive(
  config: TwConfig,
  settings: LogSettings,
  store: ObjectStore,
  options: { clock?: Clock; date?: string } = {},
): Promise<ArchiveResult> {
  const now = (options.clock ?? systemClock).now();
  const date = options.date ?? cstDate(now);
  const base = `${store.settings.prefix}/${settings.station}/${settings.host}/archive/${date}/${cstTime(now)}`;
  const files: ManifestFile[] = [];
  for (const { name, file } of archiveFiles(config, settings, date)) {
    const body = readFileSync(file);
    const sum = sha256(body);
    const key = `${base}/${name}`;
    const there = await store.head(key);
    if (!there || there.sha256 !== sum)
      await store.put(key, body, md5b64(body), sum, 'application/octet-stream');
    files.push({ name, key, bytes: body.length, sha256: sum });
  }
  const manifest: ArchiveManifest = {
    station: settings.station,
    host: settings.host,
    date,
    createdAt: new Date(now).toISOString(),
    files,
  };
  const body = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`, 'utf8');
  const manifestKey = `${base}/manifest.json`;
  await store.put(manifestKey, body, md5b64(body), sha256(body), 'application/json');
  const localDir = path.join(settings.dir, 'archive');
  mkdirSync(localDir, { recursive: true });
  const localManifest = path.join(localDir, `${date}-${cstTime(now)}.manifest.json`);
  await replaceDurably(localManifest, body);
  return { manifestKey, manifest, localManifest };
}
