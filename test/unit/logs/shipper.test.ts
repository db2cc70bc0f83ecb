import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { listSegments, LogService } from '../../../appliance/src/logs/index.js';
import { readShipped, S3RVER_KEY, describeEachStore } from '../../helpers/s3.js';
import { REPO, waitUntil } from '../../helpers/process.js';
import { tempDir, testSettings } from './fixtures.js';

function localLines(dir: string): string[] {
  return listSegments(dir).flatMap((s) =>
    readFileSync(s.file, 'utf8')
      .split('\n')
      .filter((l) => l.length > 0),
  );
}

function write(service: LogService, n: number, tag: string): void {
  for (let i = 0; i < n; i++) {
    service.log({
      time: Date.now(),
      level: i % 7 === 0 ? 'warn' : 'info',
      code: 'NQ401',
      text: `${tag} 委托第 ${i} 笔交易单元 '999999' 错!`,
    });
  }
}

/**
 * The same cases against s3rver and against a real S3 implementation (a one-node Ceph cluster,
 * test/helpers/ceph.ts), each behind the fault-injecting proxy. Ceph is skipped, saying why,
 * where its binaries are not installed (scripts/ci-deps/ceph.sh installs them in CI).
 */
describeEachStore((s3, kind) => {
  describe('shipper', () => {
    it('ships every line once, in order, Chinese kept, Content-MD5 on every PUT', async () => {
      const dir = tempDir();
      const service = new LogService({ settings: testSettings(dir, s3, { host: 'h-basic' }) });
      service.start();
      write(service, 300, 'basic');
      expect(await service.stop()).toBe(true);
      const local = localLines(dir);
      expect(local).toHaveLength(300);
      expect(local[1]).toContain('委托第 1 笔交易单元');
      expect(listSegments(dir).length).toBeGreaterThan(3);
      const { keys, lines } = await readShipped(s3, 'nqgw/W888888T/h-basic/');
      expect(lines).toEqual(local);
      expect(keys[0]).toMatch(/^nqgw\/W888888T\/h-basic\/\d{8}\/000000000001\.jsonl\.gz$/);
      const puts = s3.proxy.seen.filter((r) => r.method === 'PUT' && r.url.includes('h-basic'));
      expect(puts.length).toBe(keys.length);
      for (const p of puts) {
        expect(p.headers['content-md5']).toMatch(/^[A-Za-z0-9+/]{22}==$/);
        expect(p.headers['content-encoding'] ?? '').not.toContain('aws-chunked');
      }
      expect(service.metrics()).toMatchObject({
        objectsShipped: keys.length,
        linesDropped: 0,
        spoolBytes: 0,
      });
    });

    it('rides through resets, 500, 503, slow answers and commit-then-drop without loss or duplicates', async () => {
      const dir = tempDir();
      const service = new LogService({ settings: testSettings(dir, s3, { host: 'h-faults' }) });
      service.start();
      s3.proxy.fault('reset-mid-body', 500, 'pass', 503, { slowMs: 300 });
      s3.proxy.faultPuts('commit-drop', 'pass', 'reset-mid-body', 503, 'commit-drop');
      write(service, 200, 'faults');
      expect(await service.stop()).toBe(true);
      const { lines } = await readShipped(s3, 'nqgw/W888888T/h-faults/');
      expect(lines).toEqual(localLines(dir));
      const m = service.metrics();
      expect(m.failures).toBeGreaterThanOrEqual(4);
      expect(m.replaysSkipped).toBeGreaterThanOrEqual(1);
      expect(m.linesDropped).toBe(0);
    });
  });

  // What a real store refuses and s3rver takes (s3rver stores the damaged body and accepts any
  // secret): so these run against Ceph only.
  // Declared only for Ceph (not declared-and-skipped for s3rver: nothing is missing there).
  const onRealStore: (name: string, body: () => void) => void = kind === 'ceph' ? describe : () => undefined;
  onRealStore('what a real store refuses', () => {
    it('a body damaged on the way is refused (Content-MD5: BadDigest) and shipped again intact', async () => {
      const dir = tempDir();
      const service = new LogService({ settings: testSettings(dir, s3, { host: 'h-digest' }) });
      service.start();
      s3.proxy.faultPuts('flip-byte', 'flip-byte');
      write(service, 100, 'digest');
      expect(await service.stop()).toBe(true);
      const flipped = s3.proxy.seen.filter((r) => r.fault === 'flip-byte' && r.url.includes('h-digest'));
      expect(flipped.map((r) => r.status)).toEqual([400, 400]);
      const { lines } = await readShipped(s3, 'nqgw/W888888T/h-digest/');
      expect(lines).toEqual(localLines(dir));
      expect(service.metrics()).toMatchObject({ failures: 2, lastError: null });
    });

    it('wrong credentials: retried, lastError names the cause (HTTP 403, credentials), nothing is lost', async () => {
      const dir = tempDir();
      const base = testSettings(dir, s3, { host: 'h-badkey' });
      const settings = {
        ...base,
        store: {
          ...base.store!,
          credentials: { accessKeyId: S3RVER_KEY, secretAccessKey: 'not-the-secret' },
        },
      };
      const events: string[] = [];
      const service = new LogService({
        settings,
        onEvent: (_l, text, code) => events.push(`${code} ${text}`),
      });
      service.start();
      write(service, 50, 'badkey');
      await waitUntil(() => service.metrics().failures >= 3, 'three refusals', 15_000);
      // The shipper's HEAD comes first, and a HEAD answer has no body: the SDK alone says only
      // "Unknown: UnknownError" here (what the operator saw before); now status and meaning.
      expect(service.metrics().lastError).toMatch(
        /StoreRequestError: 对象存储拒绝请求: HEAD \S+: HTTP 403 \(.*凭证/,
      );
      expect(events.some((e) => e.startsWith('NQ822') && e.includes('HTTP 403'))).toBe(true);
      expect(await service.stop(300)).toBe(false);
      const fixed = new LogService({ settings: base });
      fixed.start();
      expect(await fixed.stop()).toBe(true);
      expect((await readShipped(s3, 'nqgw/W888888T/h-badkey/')).lines).toEqual(localLines(dir));
    });
  });

  describe('spool at its bound', () => {
    it('raises the alarm, holds closed segments locally (policy hold), drops nothing, and drains when the store is back', async () => {
      const dir = tempDir();
      const events: string[] = [];
      const settings = testSettings(dir, s3, { host: 'h-full', spoolMaxBytes: 6000, segmentMaxBytes: 2048 });
      const service = new LogService({
        settings,
        onEvent: (level, text, code) => events.push(`${level} ${code} ${text}`),
      });
      await s3.stopStore();
      try {
        service.start();
        for (let round = 0; round < 40; round++) {
          write(service, 40, `full-${round}`);
          await new Promise((r) => setTimeout(r, 20));
        }
        await new Promise((r) => setTimeout(r, 1500));
        const m = service.metrics();
        expect(m.alarm).toBe('full');
        expect(m.heldSegments).toBeGreaterThan(0);
        expect(m.spoolBytes).toBeLessThanOrEqual(6000);
        expect(m.linesDropped).toBe(0);
        expect(m.failures).toBeGreaterThan(0);
        expect(m.oldestUnshippedAgeMs).toBeGreaterThan(1000);
        expect(events.some((e) => e.startsWith('warn NQ811'))).toBe(true);
        expect(events.some((e) => e.startsWith('error NQ812') && e.includes('不丢弃'))).toBe(true);
      } finally {
        await s3.startStore();
      }
      expect(await service.stop(30_000)).toBe(true);
      const { lines } = await readShipped(s3, 'nqgw/W888888T/h-full/');
      expect(lines).toHaveLength(1600);
      expect(lines).toEqual(localLines(dir));
      expect(service.metrics()).toMatchObject({
        alarm: 'ok',
        linesDropped: 0,
        heldSegments: 0,
        spoolSegments: 0,
      });
      expect(events.some((e) => e.startsWith('info NQ810'))).toBe(true);
    });
  });

  describe('restart after a crash', () => {
    it('ships what a kill -9ed process left (spool and open segment), once, and continues the sequence', async () => {
      const dir = tempDir();
      const settings = testSettings(dir, s3, { host: 'h-crash' });
      await s3.stopStore();
      // The dead process: the built LogService in a child, killed while the store is away.
      const script = `
        const { LogService } = await import(${JSON.stringify(path.join(REPO, 'dist/appliance/src/logs/index.js'))});
        const service = new LogService({ settings: JSON.parse(process.argv[1]) });
        service.start();
        for (let i = 0; i < 150; i++) service.log({ time: Date.now(), level: 'info', text: 'before 崩溃前 ' + i });
        setTimeout(() => process.stdout.write('ready'), 500);`;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(settings)]);
      await new Promise<void>((resolve) => child.stdout.on('data', () => resolve()));
      child.kill('SIGKILL');
      await new Promise((r) => child.on('exit', r));
      expect(readdirSync(path.join(dir, 'spool')).some((n) => n.endsWith('.jsonl.gz'))).toBe(true);
      await s3.startStore();
      const next = new LogService({ settings });
      next.start();
      write(next, 50, 'after');
      expect(await next.stop()).toBe(true);
      const { lines } = await readShipped(s3, 'nqgw/W888888T/h-crash/');
      expect(lines).toEqual(localLines(dir));
      expect(lines.filter((l) => l.includes('before 崩溃前'))).toHaveLength(150);
      expect(lines.filter((l) => l.includes('after'))).toHaveLength(50);
    });
  });

  describe('spool checksums', () => {
    it('a damaged spooled segment is set aside and resealed from the local log, then shipped once', async () => {
      const { writeFileSync, readFileSync: read } = await import('node:fs');
      const dir = tempDir();
      const settings = testSettings(dir, s3, { host: 'h-corrupt' });
      await s3.stopStore();
      const first = new LogService({ settings });
      first.start();
      write(first, 100, 'damaged');
      expect(await first.stop(300)).toBe(false);
      await s3.startStore();
      const spool = path.join(dir, 'spool');
      const gz = readdirSync(spool).filter((n) => n.endsWith('.jsonl.gz'));
      expect(gz.length).toBeGreaterThan(1);
      const victim = path.join(spool, gz[0]!);
      const bytes = read(victim);
      bytes.writeUInt8(bytes.readUInt8(bytes.length - 5) ^ 0xff, bytes.length - 5);
      writeFileSync(victim, bytes);
      const second = new LogService({ settings });
      second.start();
      expect(await second.stop()).toBe(true);
      expect(readdirSync(path.join(spool, 'corrupt'))).toEqual([gz[0]]);
      const { lines } = await readShipped(s3, 'nqgw/W888888T/h-corrupt/');
      expect(lines).toEqual(localLines(dir));
      expect(lines).toHaveLength(100);
    });
  });
});

describe('local disk failure', () => {
  it('never throws into the gateway; a line it cannot write is counted as dropped', async () => {
    const { rmSync, writeFileSync } = await import('node:fs');
    const dir = tempDir();
    const service = new LogService({ settings: testSettings(dir, null) });
    service.start();
    write(service, 3, 'ok');
    await service.stop();
    const broken = new LogService({ settings: testSettings(dir, null) });
    broken.start();
    rmSync(path.join(dir, 'segments'), { recursive: true });
    writeFileSync(path.join(dir, 'segments'), 'not a directory');
    expect(() => write(broken, 2, 'lost')).not.toThrow();
    // The write is off the event loop: the failure is known once the disk has answered.
    await broken.stop();
    expect(broken.metrics().linesDropped).toBe(2);
  });
});
