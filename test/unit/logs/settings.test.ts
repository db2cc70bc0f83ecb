import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TwConfig } from '../../../appliance/src/config/index.js';
import { Backoff, LogSettingsError, parseLogSettings } from '../../../appliance/src/logs/index.js';
import { tempDir } from './fixtures.js';

function config(logs?: Record<string, string>): TwConfig {
  const dir = tempDir();
  return {
    source: path.join(dir, 'tw.ini'),
    station: { id: 'W888888T', units: ['729900'] },
    files: {
      orders: path.join(dir, 'NQWT.DBF'),
      returns: path.join(dir, 'NQHB.DBF'),
      stateDir: path.join(dir, 'state'),
    },
    extra: logs ? { logs } : {},
  } as unknown as TwConfig;
}

function errorKey(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(LogSettingsError);
    return (err as LogSettingsError).key;
  }
  throw new Error('no error');
}

describe('[logs] settings', () => {
  it('without a section: local logs in state_dir/logs, shipping off, stated defaults', () => {
    const c = config();
    const s = parseLogSettings(c, {});
    expect(s.dir).toBe(path.join(c.files.stateDir, 'logs'));
    expect(s.store).toBeNull();
    expect(s).toMatchObject({
      spoolAlarmPct: 80,
      fullPolicy: 'hold',
      segmentMaxMs: 300_000,
      archiveAfter: 15 * 60 + 30,
    });
  });

  it('reads the store, prefix, credentials from the environment', () => {
    const s = parseLogSettings(
      config({ endpoint: 'http://127.0.0.1:9000', bucket: 'dr-logs', prefix: '/gw/' }),
      {
        AWS_ACCESS_KEY_ID: 'id',
        AWS_SECRET_ACCESS_KEY: 'secret',
      },
    );
    expect(s.store).toMatchObject({
      endpoint: 'http://127.0.0.1:9000',
      bucket: 'dr-logs',
      prefix: 'gw',
      credentials: { accessKeyId: 'id', secretAccessKey: 'secret' },
    });
  });

  it('reads 0600 key files and refuses looser ones, naming the key', () => {
    const c = config({
      endpoint: 'http://s3.local',
      bucket: 'logs',
      access_key_id_file: 'id',
      secret_access_key_file: 'secret',
    });
    const dir = path.dirname(c.source);
    writeFileSync(path.join(dir, 'id'), 'AKID\n', { mode: 0o600 });
    writeFileSync(path.join(dir, 'secret'), 'SECRET\n', { mode: 0o600 });
    expect(parseLogSettings(c, {}).store?.credentials).toEqual({
      accessKeyId: 'AKID',
      secretAccessKey: 'SECRET',
    });
    chmodSync(path.join(dir, 'secret'), 0o644);
    expect(errorKey(() => parseLogSettings(c, {}))).toBe('secret_access_key_file');
  });

  it.each([
    [{ endpoint: 'http://x' }, 'bucket'],
    [{ bucket: 'logs' }, 'endpoint'],
    [{ endpoint: 'ftp://x', bucket: 'logs' }, 'endpoint'],
    [{ endpoint: 'http://x', bucket: 'Bad_Bucket' }, 'bucket'],
    [{ segment_max_bytes: '12k' }, 'segment_max_bytes'],
    [{ spool_alarm_pct: '0' }, 'spool_alarm_pct'],
    [{ full_policy: 'drop-oldest' }, 'full_policy'],
    [{ archive_after: '25:00' }, 'archive_after'],
    [{ backoff_initial_ms: '5000', backoff_max_ms: '1000' }, 'backoff_max_ms'],
    [{ colour: 'blue' }, 'colour'],
    [{ endpoint: 'http://x', bucket: 'logs', request_timeout_s: '0' }, 'request_timeout_s'],
    [{ endpoint: 'http://x', bucket: 'logs', request_timeout_s: '601' }, 'request_timeout_s'],
  ])('%j is refused naming %s', (logs, key) => {
    expect(errorKey(() => parseLogSettings(config(logs as Record<string, string>), {}))).toBe(key);
  });
});

describe('backoff', () => {
  it('doubles, caps, jitters within [cap/2, cap] and never runs out', () => {
    const b = new Backoff(100, 5000, () => 1);
    expect([b.next(), b.next(), b.next()]).toEqual([100, 200, 400]);
    for (let i = 0; i < 1000; i++) expect(b.next()).toBeLessThanOrEqual(5000);
    const low = new Backoff(100, 5000, () => 0);
    for (let i = 0; i < 10; i++) low.next();
    expect(low.next()).toBe(2500);
    low.reset();
    expect(low.next()).toBe(50);
  });
});

describe('[logs] keep_days', () => {
  it('defaults to 30 with object storage, to forever without (the only copy); takes 1-3650; 0 or forever keeps everything (null)', () => {
    const keep = (v?: string): number | null =>
      parseLogSettings(config(v === undefined ? {} : { keep_days: v }), {}).keepDays;
    const shipping = { endpoint: 'http://127.0.0.1:9000', bucket: 'nqgw-logs' };
    expect(parseLogSettings(config(shipping), {}).keepDays).toBe(30);
    expect(parseLogSettings(config({ ...shipping, keep_days: '' }), {}).keepDays).toBe(30);
    expect(keep()).toBeNull();
    expect(keep('')).toBeNull();
    expect(keep('1')).toBe(1);
    expect(keep(' 90 ')).toBe(90);
    expect(keep('3650')).toBe(3650);
    expect(keep('0')).toBeNull();
    expect(keep('forever')).toBeNull();
    expect(keep('Forever')).toBeNull();
  });

  it.each(['3651', '-1', '30d', '1.5', 'never', '7 days'])('%j is refused naming keep_days', (v) => {
    expect(errorKey(() => parseLogSettings(config({ keep_days: v }), {}))).toBe('keep_days');
  });

  it('says what is allowed', () => {
    expect(() => parseLogSettings(config({ keep_days: '5000' }), {})).toThrow(
      /NQ801|\[logs\] keep_days: 5000 is outside 1-3650 \(0 or forever = keep\)/,
    );
  });
});

describe('[logs] request_timeout_s', () => {
  it('defaults to 30 s for one request to the store and takes 1-600', () => {
    const store = { endpoint: 'http://127.0.0.1:9000', bucket: 'dr-logs' };
    expect(parseLogSettings(config(store), {}).store?.requestTimeoutMs).toBe(30_000);
    expect(parseLogSettings(config({ ...store, request_timeout_s: '5' }), {}).store?.requestTimeoutMs).toBe(
      5000,
    );
  });
});
