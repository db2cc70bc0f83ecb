import { spawn } from 'node:child_process';
import { createReadStream, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  listSegments,
  LogService,
  openSegmentFile,
  type OpenSegmentFile,
  type SegmentFile,
} from '../../../appliance/src/logs/index.js';
import { readShipped, S3Lab } from '../../helpers/s3.js';
import { REPO, waitUntil } from '../../helpers/process.js';
import { tempDir, testSettings } from './fixtures.js';

/**
 * A [logs] disk that stops answering: the real files, but every write waits while the disk is
 * "stuck" (as a write to a hung NFS mount or a dying disk does) and goes through once it is back.
 * Same interface as the real segment files, so the writer cannot tell.
 */
class StuckDisk {
  private release: (() => void) | null = null;
  private gate: Promise<void> | null = null;
  /** Writes waiting for the disk right now. */
  waiting = 0;
  /** While true every write and sync fails, as on a full or read-only disk. */
  broken = false;

  stick(): void {
    this.gate = new Promise((resolve) => (this.release = resolve));
  }

  unstick(): void {
    this.release?.();
    this.gate = null;
  }

  readonly open: OpenSegmentFile = async (file) => {
    const real = await openSegmentFile(file);
    const wait = async (): Promise<void> => {
      if (this.broken)
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      if (!this.gate) return;
      this.waiting++;
      await this.gate;
      this.waiting--;
    };
    const slow: SegmentFile = {
      appendFile: async (data) => {
        await wait();
        await real.appendFile(data);
      },
      sync: async () => {
        await wait();
        await real.sync();
      },
      close: () => real.close(),
    };
    return slow;
  };
}

function localLines(dir: string): string[] {
  return listSegments(dir).flatMap((s) =>
    readFileSync(s.file, 'utf8')
      .split('\n')
      .filter((l) => l.length > 0),
  );
}

function write(service: LogService, n: number, tag: string): void {
  for (let i = 0; i < n; i++)
    service.log({
      time: Date.now(),
      level: 'info',
      code: 'NQ401',
      text: `${tag} 委托第 ${i} 笔交易单元 '999999' 错!`,
    });
}

/** Ticks of a 5 ms interval until `n` have run (a blocked event loop runs none). */
async function ticks(n: number): Promise<number> {
  let count = 0;
  const started = Date.now();
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      if (++count >= n) {
        clearInterval(timer);
        resolve();
      }
    }, 5);
  });
  return Date.now() - started;
}

describe('a slow or stuck [logs] disk', () => {
  let s3: S3Lab;
  beforeAll(async () => {
    s3 = await S3Lab.start('s3rver');
  }, 60_000);
  afterAll(async () => {
    await s3?.stop();
  });

  it('never blocks the caller or the event loop; every line arrives once, in order, when the disk is back', async () => {
    const dir = tempDir();
    const disk = new StuckDisk();
    const service = new LogService({
      settings: testSettings(dir, s3, { host: 'h-stuck' }),
      openSegmentFile: disk.open,
    });
    service.start();
    disk.stick();
    const started = performance.now();
    write(service, 300, 'stuck');
    const callerMs = performance.now() - started;
    // The old writer wrote each line with writeSync before log() returned: this disk would
    // have held the caller (and heartbeats with it) until it came back.
    expect(callerMs).toBeLessThan(500);
    await waitUntil(() => disk.waiting > 0, 'a segment write waiting for the stuck disk', 5000);
    // The event loop keeps running while the write waits: 40 ticks of 5 ms.
    const tickMs = await ticks(40);
    expect(tickMs).toBeLessThan(5000);
    process.stdout.write(
      `SLOWDISK 300 lines logged in ${callerMs.toFixed(1)} ms with the disk stuck; 40 ticks of 5 ms took ${tickMs} ms\n`,
    );
    expect(disk.waiting).toBe(1);
    // Rotation went on by size (4 KiB), but nothing not yet written and synced is sealed or shipped.
    expect(localLines(dir).length).toBeLessThan(300);
    expect(service.metrics().objectsShipped).toBe(0);
    disk.unstick();
    expect(await service.stop()).toBe(true);
    const local = localLines(dir);
    expect(local).toHaveLength(300);
    expect(local.map((l) => (JSON.parse(l) as { text: string }).text)).toEqual(
      Array.from({ length: 300 }, (_, i) => `stuck 委托第 ${i} 笔交易单元 '999999' 错!`),
    );
    expect(listSegments(dir).length).toBeGreaterThan(3);
    const { lines } = await readShipped(s3, 'nqgw/W888888T/h-stuck/');
    expect(lines).toEqual(local);
    expect(service.metrics().linesDropped).toBe(0);
  }, 60_000);

  it('past its bound drops lines with a count, says so once, and marks the gap in the segment', async () => {
    const dir = tempDir();
    const disk = new StuckDisk();
    const events: string[] = [];
    const service = new LogService({
      settings: testSettings(dir, null, { segmentMaxBytes: 1024 * 1024 }),
      openSegmentFile: disk.open,
      segmentQueueBytes: 16 * 1024,
      onEvent: (_level, _text, code) => events.push(code),
    });
    service.start();
    disk.stick();
    write(service, 1000, 'flood');
    await waitUntil(() => disk.waiting > 0, 'a segment write waiting for the stuck disk', 5000);
    const dropped = service.metrics().linesDropped;
    expect(dropped).toBeGreaterThan(500);
    disk.unstick();
    await waitUntil(() => localLines(dir).length === 1000 - dropped, 'the kept lines written', 5000);
    write(service, 10, 'more');
    await service.stop();
    await new Promise((r) => setImmediate(r));
    const local = localLines(dir).map((l) => JSON.parse(l) as { code?: string; text: string });
    expect(local).toHaveLength(1000 - dropped + 1 + 10);
    // The kept lines in order, then the mark where the gap is, then what came after.
    expect(local.slice(0, 1000 - dropped).map((l) => l.text)).toEqual(
      Array.from({ length: 1000 - dropped }, (_, i) => `flood 委托第 ${i} 笔交易单元 '999999' 错!`),
    );
    expect(local[1000 - dropped]).toMatchObject({
      code: 'NQ817',
      text: `此处 ${dropped} 行日志未写入: 日志目录磁盘过慢`,
    });
    expect(local.slice(-10).map((l) => l.text)).toEqual(
      Array.from({ length: 10 }, (_, i) => `more 委托第 ${i} 笔交易单元 '999999' 错!`),
    );
    expect(service.metrics().linesDropped).toBe(dropped);
    expect(events.filter((c) => c === 'NQ817')).toHaveLength(1);
  }, 30_000);

  it('a stop does not hang on a disk that never comes back (flush_timeout_s bounds it)', async () => {
    const dir = tempDir();
    const disk = new StuckDisk();
    const service = new LogService({
      settings: testSettings(dir, s3, { host: 'h-never', flushTimeoutMs: 1000 }),
      openSegmentFile: disk.open,
    });
    service.start();
    disk.stick();
    write(service, 50, 'never');
    await waitUntil(() => disk.waiting > 0, 'a segment write waiting for the stuck disk', 5000);
    const started = Date.now();
    expect(await service.stop()).toBe(false);
    expect(Date.now() - started).toBeLessThan(4000);
    // The disk comes back later: the lines still reach the local segment (shipped at the next start).
    disk.unstick();
    await waitUntil(() => localLines(dir).length === 50, 'the queued lines written after the stop', 5000);
  }, 30_000);

  it('a failing disk: said once, its lines counted, closed segments not stuck; recovery said once and shipping goes on', async () => {
    const dir = tempDir();
    const disk = new StuckDisk();
    const events: string[] = [];
    const service = new LogService({
      settings: testSettings(dir, s3, { host: 'h-broken', segmentMaxBytes: 1024 }),
      openSegmentFile: disk.open,
      onEvent: (_level, text, code) => events.push(`${code} ${text}`),
    });
    service.start();
    write(service, 20, 'before');
    await waitUntil(() => localLines(dir).length === 20, 'the first lines written', 5000);
    disk.broken = true;
    // Several segments (1 KiB each) close while the disk fails: their syncs fail too.
    write(service, 40, 'lost');
    await waitUntil(() => service.metrics().linesDropped > 0, 'the failed lines counted', 5000);
    disk.broken = false;
    // The writer tries again a second after the failure; these go through.
    write(service, 20, 'after');
    expect(await service.stop()).toBe(true);
    await new Promise((r) => setImmediate(r));
    const local = localLines(dir);
    const lost = service.metrics().linesDropped;
    expect(local.filter((l) => l.includes('"before ')).length).toBe(20);
    expect(local.filter((l) => l.includes('"after ')).length).toBe(20);
    expect(local.filter((l) => l.includes('"lost ')).length + lost).toBe(40);
    expect(events.filter((e) => e.startsWith('NQ813'))).toHaveLength(1);
    expect(events.filter((e) => e.startsWith('NQ818'))).toEqual([
      `NQ818 日志本地写入已恢复, 期间丢失 ${lost} 行`,
    ]);
    // Every segment closed during the failure was let go of: all that is on disk is shipped, once.
    const { lines } = await readShipped(s3, 'nqgw/W888888T/h-broken/');
    expect(lines).toEqual(local);
  }, 30_000);

  it('a real stuck file (a FIFO nobody reads): log() returns at once, the line goes through when a reader comes', async () => {
    const dir = tempDir();
    const settings = testSettings(dir, null, { host: 'h-fifo' });
    // The built service in a child: with a writer that blocks, this process could not even time out.
    const script = `
      const { LogService, segmentsDir } = await import(${JSON.stringify(path.join(REPO, 'dist/appliance/src/logs/index.js'))});
      const { cstDate } = await import(${JSON.stringify(path.join(REPO, 'dist/appliance/src/shared/index.js'))});
      const { execFileSync } = await import('node:child_process');
      const service = new LogService({ settings: JSON.parse(process.argv[1]) });
      service.start();
      // The first segment's file is a FIFO: opening it for writing waits for a reader.
      const fifo = segmentsDir(service.options.settings.dir) + '/' + cstDate(Date.now()) + '-000000000001.jsonl';
      execFileSync('mkfifo', [fifo]);
      process.stdout.write('fifo ' + fifo + '\\n');
      const t0 = performance.now();
      service.log({ time: Date.now(), level: 'info', text: 'through the fifo' });
      process.stdout.write('logged ' + Math.round(performance.now() - t0) + '\\n');
      await service.stop();`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(settings)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise((r) => child.on('exit', r));
    try {
      const fifo = await waitUntil(() => /^fifo (.+)$/m.exec(out)?.[1], 'the child made the FIFO', 10_000);
      // Nobody reads for 1.5 s: the old writer (writeSync in log()) held the caller all that time.
      const before = await Promise.race([
        waitUntil(() => /^logged (\d+)$/m.exec(out)?.[1], 'log() returned', 1500).then(Number),
        exited.then(() => -1),
      ]).catch(() => null);
      expect(before, 'log() returned while the file did not answer (ms it took)').not.toBeNull();
      expect(before).toBeLessThan(500);
      const got = await new Promise<string>((resolve, reject) => {
        let data = '';
        createReadStream(fifo)
          .on('data', (d) => (data += d.toString()))
          .on('end', () => resolve(data))
          .on('error', reject);
      });
      expect(JSON.parse(got.trim())).toMatchObject({
        level: 'info',
        text: 'through the fifo',
        host: 'h-fifo',
      });
      await exited;
    } finally {
      child.kill('SIGKILL');
    }
  }, 30_000);

  it('a process that exits right after logging keeps every queued line, once, in order', async () => {
    const dir = tempDir();
    const settings = testSettings(dir, null, { host: 'h-exit', segmentMaxBytes: 2048 });
    const script = `
      const { LogService } = await import(${JSON.stringify(path.join(REPO, 'dist/appliance/src/logs/index.js'))});
      const service = new LogService({ settings: JSON.parse(process.argv[1]) });
      service.start();
      for (let i = 0; i < 150; i++) service.log({ time: Date.now(), level: 'info', text: 'exit ' + i });
      process.exit(0);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(settings)], {
      stdio: 'inherit',
    });
    const code = await new Promise((r) => child.on('exit', r));
    expect(code).toBe(0);
    const texts = localLines(dir).map((l) => (JSON.parse(l) as { text: string }).text);
    expect(texts).toEqual(Array.from({ length: 150 }, (_, i) => `exit ${i}`));
  }, 30_000);
});
