import { readFileSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TwConfig } from '../config/index.js';
import { LogSettingsError } from './errors.js';

/**
 * tw.ini [logs] (all optional; without `endpoint`/`bucket` shipping is off but structured local
 * logs are still written):
 *   dir = state/logs               local log segments and the spool
 *   endpoint = http://host:port    S3-compatible store; bucket = NAME; prefix = nqgw; region = us-east-1
 *   access_key_id_file / secret_access_key_file   0600 files (else AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)
 *   segment_max_bytes = 8388608    segment_max_s = 300
 *   spool_max_mb = 1024            spool_alarm_pct = 80
 *   full_policy = hold             only policy: closed segments wait in the local log dir, never dropped
 *   backoff_initial_ms = 500       backoff_max_ms = 30000
 *   flush_timeout_s = 20           how long SIGTERM waits for the spool to drain (and the stop-time
 *                                  archive): the whole stop of the log service is bounded by it
 *   request_timeout_s = 30         one request to the store (connect, answer, body), then aborted
 *   archive_after = 15:30          CST; a stop after this time uploads the end-of-day archive (empty = off)
 *   keep_days = 30                 local segments older than this many CST days are deleted once
 *                                  shipped (1-3650; 0 or `forever` = keep them all). Default 30
 *                                  with object storage, forever without (the only copy)
 *   host = <hostname>              host part of object keys
 */
export type FullPolicy = 'hold';

export interface StoreSettings {
  endpoint: string;
  bucket: string;
  prefix: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string } | null;
  /** One request, start to end of body; absent = store.ts's default (30 s). */
  requestTimeoutMs?: number;
}

export interface LogSettings {
  dir: string;
  station: string;
  host: string;
  store: StoreSettings | null;
  segmentMaxBytes: number;
  segmentMaxMs: number;
  spoolMaxBytes: number;
  spoolAlarmPct: number;
  fullPolicy: FullPolicy;
  backoffInitialMs: number;
  backoffMaxMs: number;
  flushTimeoutMs: number;
  /** Minutes after CST midnight, or null. */
  archiveAfter: number | null;
  /** Days of local segments to keep (retention.ts), or null to keep them forever. */
  keepDays: number | null;
}

const KNOWN = new Set([
  'dir',
  'endpoint',
  'bucket',
  'prefix',
  'region',
  'access_key_id_file',
  'secret_access_key_file',
  'segment_max_bytes',
  'segment_max_s',
  'spool_max_mb',
  'spool_alarm_pct',
  'full_policy',
  'backoff_initial_ms',
  'backoff_max_ms',
  'flush_timeout_s',
  'request_timeout_s',
  'archive_after',
  'keep_days',
  'host',
]);

function int(raw: Record<string, string>, key: string, def: number, min: number, max: number): number {
  const v = raw[key]?.trim();
  if (!v) return def;
  if (!/^\d+$/.test(v)) throw new LogSettingsError(key, `'${v}' is not a whole number`);
  const n = Number(v);
  if (n < min || n > max) throw new LogSettingsError(key, `${n} is outside ${min}-${max}`);
  return n;
}

function secretFile(raw: Record<string, string>, key: string, base: string): string | null {
  const v = raw[key]?.trim();
  if (!v) return null;
  const file = path.resolve(base, v);
  let mode: number;
  try {
    mode = statSync(file).mode;
  } catch {
    throw new LogSettingsError(key, `${file} does not exist`);
  }
  if ((mode & 0o077) !== 0)
    throw new LogSettingsError(key, `${file} must be mode 0600 (is ${(mode & 0o777).toString(8)})`);
  return readFileSync(file, 'utf8').trim();
}

/**
 * keep_days: at least 1, so today's and yesterday's segments always stay (the end-of-day archive
 * and `nqgw archive --date` for the day before read them); 0 or `forever` turns retention off.
 */
function keepDays(raw: Record<string, string>, shipping: boolean): number | null {
  const v = raw.keep_days?.trim().toLowerCase();
  // Without object storage the local segments are the only copy: kept unless the operator says.
  if (!v) return shipping ? 30 : null;
  if (v === 'forever') return null;
  if (!/^\d+$/.test(v))
    throw new LogSettingsError('keep_days', `'${v}' is not a number of days (1-3650, 0 or forever = keep)`);
  const n = Number(v);
  if (n === 0) return null;
  if (n < 1 || n > 3650)
    throw new LogSettingsError('keep_days', `${n} is outside 1-3650 (0 or forever = keep)`);
  return n;
}

/** Read and check [logs]; every problem is a LogSettingsError naming its key. */
export function parseLogSettings(config: TwConfig, env: NodeJS.ProcessEnv = process.env): LogSettings {
  const raw = config.extra.logs ?? {};
  for (const key of Object.keys(raw)) if (!KNOWN.has(key)) throw new LogSettingsError(key, 'unknown key');
  const base = path.dirname(config.source);
  const dir = raw.dir?.trim() ? path.resolve(base, raw.dir.trim()) : path.join(config.files.stateDir, 'logs');
  const endpoint = raw.endpoint?.trim() ?? '';
  const bucket = raw.bucket?.trim() ?? '';
  if (endpoint && !bucket) throw new LogSettingsError('bucket', 'required when endpoint is set');
  if (bucket && !endpoint) throw new LogSettingsError('endpoint', 'required when bucket is set');
  if (endpoint && !/^https?:\/\/[^\s/]+/.test(endpoint))
    throw new LogSettingsError('endpoint', `'${endpoint}' is not an http(s) URL`);
  if (bucket && !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
    throw new LogSettingsError('bucket', `'${bucket}' is not a valid bucket name`);
  const prefix = (raw.prefix?.trim() || 'nqgw').replace(/^\/+|\/+$/g, '');
  if (!/^[A-Za-z0-9._\-/]+$/.test(prefix))
    throw new LogSettingsError('prefix', `'${prefix}' may hold only letters, digits, . _ - /`);
  const host = (raw.host?.trim() || os.hostname()).replace(/[^A-Za-z0-9._-]/g, '_');
  const policy = raw.full_policy?.trim() || 'hold';
  if (policy !== 'hold') throw new LogSettingsError('full_policy', `'${policy}' is not a policy (hold)`);
  const archive = raw.archive_after?.trim() ?? '15:30';
  let archiveAfter: number | null = null;
  if (archive) {
    const m = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(archive);
    if (!m) throw new LogSettingsError('archive_after', `'${archive}' is not HH:MM`);
    archiveAfter = Number(m[1]) * 60 + Number(m[2]);
  }
  const idFile = secretFile(raw, 'access_key_id_file', base);
  const secretFileValue = secretFile(raw, 'secret_access_key_file', base);
  if ((idFile === null) !== (secretFileValue === null)) {
    throw new LogSettingsError(
      idFile === null ? 'access_key_id_file' : 'secret_access_key_file',
      'give both key files or neither',
    );
  }
  const accessKeyId = idFile ?? env.AWS_ACCESS_KEY_ID ?? '';
  const secretAccessKey = secretFileValue ?? env.AWS_SECRET_ACCESS_KEY ?? '';
  const backoffInitialMs = int(raw, 'backoff_initial_ms', 500, 10, 60_000);
  const backoffMaxMs = int(raw, 'backoff_max_ms', 30_000, 10, 600_000);
  if (backoffMaxMs < backoffInitialMs)
    throw new LogSettingsError('backoff_max_ms', 'must not be below backoff_initial_ms');
  return {
    dir,
    station: config.station.id,
    host,
    store: endpoint
      ? {
          endpoint,
          bucket,
          prefix,
          region: raw.region?.trim() || env.AWS_REGION || 'us-east-1',
          credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : null,
          requestTimeoutMs: int(raw, 'request_timeout_s', 30, 1, 600) * 1000,
        }
      : null,
    segmentMaxBytes: int(raw, 'segment_max_bytes', 8 * 1024 * 1024, 256, 1024 * 1024 * 1024),
    segmentMaxMs: int(raw, 'segment_max_s', 300, 1, 86_400) * 1000,
    spoolMaxBytes: int(raw, 'spool_max_mb', 1024, 1, 1024 * 1024) * 1024 * 1024,
    spoolAlarmPct: int(raw, 'spool_alarm_pct', 80, 1, 100),
    fullPolicy: 'hold',
    backoffInitialMs,
    backoffMaxMs,
    flushTimeoutMs: int(raw, 'flush_timeout_s', 20, 0, 3600) * 1000,
    archiveAfter,
    keepDays: keepDays(raw, Boolean(endpoint)),
  };
}
