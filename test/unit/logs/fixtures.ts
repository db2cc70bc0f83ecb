import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LogSettings } from '../../../appliance/src/logs/index.js';
import { LOG_BUCKET, S3RVER_KEY, type S3Lab } from '../../helpers/s3.js';

export function tempDir(): string {
  return mkdtempSync(path.join(os.tmpdir(), 'nqgw-logs-'));
}

/** Settings as parseLogSettings would give them, pointed at the lab's proxy. */
export function testSettings(dir: string, s3: S3Lab | null, over: Partial<LogSettings> = {}): LogSettings {
  return {
    dir,
    station: 'W888888T',
    host: 'testhost',
    store: s3
      ? {
          endpoint: s3.endpoint,
          bucket: LOG_BUCKET,
          prefix: 'nqgw',
          region: 'us-east-1',
          credentials: { accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_KEY },
        }
      : null,
    segmentMaxBytes: 4096,
    segmentMaxMs: 60_000,
    spoolMaxBytes: 64 * 1024 * 1024,
    spoolAlarmPct: 80,
    fullPolicy: 'hold',
    backoffInitialMs: 20,
    backoffMaxMs: 200,
    flushTimeoutMs: 10_000,
    archiveAfter: null,
    keepDays: null,
    ...over,
  };
}
