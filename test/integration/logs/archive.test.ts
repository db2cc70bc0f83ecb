import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ObjectStore, type ArchiveManifest } from '../../../appliance/src/logs/index.js';
import { simReady, startGateway, startSim } from '../../helpers/lab.js';
import { REPO, waitUntil, type NqgwProcess } from '../../helpers/process.js';
import { LOG_BUCKET, S3RVER_KEY, describeEachStore } from '../../helpers/s3.js';
import { OrderLoad, shippingLab } from './harness.js';

const running: NqgwProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
});

/** Against s3rver and a real S3 implementation (one-node Ceph; skipped, saying why, without it). */
describeEachStore((s3) => {
  /**
   * `nqgw logs …` and `nqgw archive …` from the built CLI. cli/main.ts registers them; until it
   * does, this runs registerLogsCommands on its own program, the same code.
   */
  function nqgwLogs(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
    const script = `
      const { Command } = await import('commander');
      const { registerLogsCommands } = await import(${JSON.stringify(path.join(REPO, 'dist/appliance/src/cli/logs.js'))});
      const program = new Command('nqgw');
      registerLogsCommands(program);
      await program.parseAsync(process.argv);`;
    return new Promise((resolve) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', script, 'nqgw', ...args], {
        cwd: REPO,
      });
      let out = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
      child.stderr.on('data', (c: Buffer) => (err += c.toString('utf8')));
      child.on('exit', (code) => resolve({ code, out, err }));
    });
  }

  const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

  describe('end-of-day archive and operator commands', () => {
    it("uploads NQWT, NQHB, the journal and the day's logs with a manifest that matches the files", async () => {
      const lab = await shippingLab(s3, 'it-archive');
      running.push(startSim(lab));
      const admin = await simReady(lab);
      const gateway = startGateway(lab);
      running.push(gateway);
      await gateway.waitFor(/小站端与服务器连接成功/);
      const load = new OrderLoad(lab, 10, 4);
      load.start();
      await new Promise((r) => setTimeout(r, 1500));
      await load.stop();
      await waitUntil(
        async () => (await admin.station(lab.station)).ordersTaken >= load.good,
        'orders taken',
      );
      await waitUntil(
        () => readFileSync(path.join(lab.stateDir, 'logs', 'ship-status.json'), 'utf8'),
        'ship status',
      );

      const status = await nqgwLogs(['logs', 'ship-status', '--config', lab.twIni, '--json']);
      expect(status.code, status.out + status.err).toBe(0);
      expect(JSON.parse(status.out)).toMatchObject({ shipping: true, linesDropped: 0, alarm: 'ok' });
      const tail = await nqgwLogs(['logs', 'tail', '--config', lab.twIni, '-n', '5']);
      expect(tail.code).toBe(0);
      expect(tail.out.trim().split('\n')).toHaveLength(5);
      expect(tail.out).toMatch(/\d\d:\d\d:\d\d (info|warn|error)/);
      expect(await gateway.stop()).toBe(0);

      const res = await nqgwLogs(['archive', '--config', lab.twIni, '--json']);
      expect(res.code, res.out + res.err).toBe(0);
      const printed = JSON.parse(res.out) as ArchiveManifest & { manifestKey: string };
      const store = new ObjectStore({
        endpoint: s3.directEndpoint,
        bucket: LOG_BUCKET,
        prefix: '',
        region: 'us-east-1',
        credentials: { accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_KEY },
      });
      try {
        const manifest = JSON.parse(
          (await store.get(printed.manifestKey)).toString('utf8'),
        ) as ArchiveManifest;
        expect(manifest.files).toEqual(printed.files);
        const names = manifest.files.map((f) => f.name);
        expect(names).toContain('NQWT.DBF');
        expect(names).toContain('NQHB.DBF');
        expect(names.some((n) => /^journal\/\d{8}\.jnl$/.test(n))).toBe(true);
        expect(names.filter((n) => n.startsWith('logs/')).length).toBeGreaterThan(0);
        for (const f of manifest.files) {
          const body = await store.get(f.key);
          expect(sha256(body), f.name).toBe(f.sha256);
          expect(body.length).toBe(f.bytes);
          const local = f.name.startsWith('logs/')
            ? path.join(lab.stateDir, 'logs', 'segments', f.name.slice(5))
            : f.name.startsWith('journal/')
              ? path.join(lab.stateDir, f.name)
              : path.join(lab.dir, f.name);
          expect(sha256(readFileSync(local)), `local ${f.name}`).toBe(f.sha256);
        }
      } finally {
        store.destroy();
      }
    });
  });

  describe('archive after close', () => {
    it("a stop after archive_after uploads the day's set by itself", async () => {
      const lab = await shippingLab(s3, 'it-eod', { archive_after: '00:00' });
      running.push(startSim(lab));
      await simReady(lab);
      const gateway = startGateway(lab);
      running.push(gateway);
      await gateway.waitFor(/小站端与服务器连接成功/);
      expect(await gateway.stop()).toBe(0);
      const m = /archive: (\S+manifest\.json) \((\d+) files\)/.exec(gateway.output);
      expect(m, gateway.output.slice(-2000)).not.toBeNull();
      const store = new ObjectStore({
        endpoint: s3.directEndpoint,
        bucket: LOG_BUCKET,
        prefix: '',
        region: 'us-east-1',
        credentials: { accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_KEY },
      });
      try {
        const manifest = JSON.parse((await store.get(m![1]!)).toString('utf8')) as ArchiveManifest;
        expect(manifest.files).toHaveLength(Number(m![2]));
        for (const f of manifest.files) expect(sha256(await store.get(f.key)), f.name).toBe(f.sha256);
      } finally {
        store.destroy();
      }
    });
  });
});
