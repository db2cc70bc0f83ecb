import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { accessSync, constants, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './ports.js';

/**
 * A throwaway one-node Ceph cluster on loopback, the real S3 implementation the shipping tests run
 * against beside s3rver: Debian 12's Ceph 16.2 (scripts/ci-deps/ceph.sh installs it). One mon,
 * one osd on memstore (in memory: nothing to format, gone when killed), one radosgw with the beast
 * frontend; auth none (the rgw client then needs `ms mon client mode = crc secure`); no mgr (rgw
 * and radosgw-admin do not need one, and it costs CPU). Everything lives in a temp dir; stop()
 * kills every daemon and removes the dir, and an exit hook kills them if the test process dies.
 */

const BINARIES = ['monmaptool', 'ceph-mon', 'ceph-osd', 'radosgw', 'radosgw-admin', 'ceph'];

function onPath(bin: string): boolean {
  return (process.env['PATH'] ?? '').split(':').some((dir) => {
    try {
      accessSync(path.join(dir, bin), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Why Ceph tests cannot run here, or null when they can. */
export function cephSkipReason(): string | null {
  const missing = BINARIES.filter((b) => !onPath(b));
  if (missing.length === 0) return null;
  return `Ceph binaries missing (${missing.join(', ')}): run scripts/ci-deps/ceph.sh as root`;
}

function run(cmd: string, args: string[], timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Every cluster this process started, killed on exit whatever happened. */
const live = new Set<CephCluster>();
process.on('exit', () => {
  for (const c of live) c.killNow();
});

export class CephCluster {
  readonly dir = mkdtempSync(path.join(os.tmpdir(), 'nqgw-ceph-'));
  readonly conf = path.join(this.dir, 'ceph.conf');
  private readonly daemons = new Map<string, ChildProcess>();
  s3Port = 0;
  /** Seconds from start() to a signed S3 request answered, for the report. */
  startSeconds = 0;

  private constructor() {}

  /** Start a cluster, create the S3 user with fixed keys, and wait until S3 answers signed requests. */
  static async start(accessKey: string, secretKey: string): Promise<CephCluster> {
    const reason = cephSkipReason();
    if (reason) throw new Error(reason);
    const cluster = new CephCluster();
    live.add(cluster);
    try {
      await cluster.boot(accessKey, secretKey);
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.s3Port}`;
  }

  private async boot(accessKey: string, secretKey: string): Promise<void> {
    const t0 = performance.now();
    const d = this.dir;
    for (const sub of ['run', 'log', 'mon', 'osd']) mkdirSync(path.join(d, sub));
    const fsid = randomUUID();
    const monPort = await freePort();
    this.s3Port = await freePort();
    writeFileSync(
      this.conf,
      [
        '[global]',
        `fsid = ${fsid}`,
        `mon host = [v2:127.0.0.1:${monPort}]`,
        'mon initial members = a',
        'public addr = 127.0.0.1',
        'auth cluster required = none',
        'auth service required = none',
        'auth client required = none',
        // With auth none the mon still offers only "secure" to clients by default; rgw then fails.
        'ms mon client mode = crc secure',
        `run dir = ${d}/run`,
        `admin socket = ${d}/run/$name.asok`,
        `pid file = ${d}/run/$name.pid`,
        `log file = ${d}/log/$name.log`,
        `mon data = ${d}/mon/$cluster-$id`,
        `osd data = ${d}/osd/$cluster-$id`,
        'osd objectstore = memstore',
        'memstore device bytes = 536870912',
        'osd pool default size = 1',
        'osd pool default min size = 1',
        'osd pool default pg num = 8',
        'osd pool default pgp num = 8',
        'osd pool default pg autoscale mode = off',
        'mon allow pool size one = true',
        'mon max pg per osd = 1000',
        'osd crush chooseleaf type = 0',
        'mon warn on pool no redundancy = false',
        // A CI disk at 70 % used must not make the mon warn, or stop at the critical mark.
        'mon data avail warn = 2',
        'mon data avail crit = 1',
        '[client.rgw.a]',
        `rgw frontends = beast endpoint=127.0.0.1:${this.s3Port}`,
        '',
      ].join('\n'),
    );
    const c = ['-c', this.conf];
    await run('monmaptool', [
      '--create',
      '--addv',
      'a',
      `[v2:127.0.0.1:${monPort}]`,
      '--fsid',
      fsid,
      `${d}/monmap`,
    ]);
    await run('ceph-mon', [...c, '--mkfs', '-i', 'a', '--monmap', `${d}/monmap`]);
    this.daemon('mon', 'ceph-mon', [...c, '-i', 'a', '-f']);
    // The CLI waits for the mon itself (up to --connect-timeout): no guessed sleep.
    const osdUuid = randomUUID();
    const osdId = (await run('ceph', [...c, '--connect-timeout', '60', 'osd', 'new', osdUuid])).trim();
    mkdirSync(path.join(d, 'osd', `ceph-${osdId}`));
    await run('ceph-osd', [...c, '-i', osdId, '--mkfs', '--osd-uuid', osdUuid]);
    this.daemon('osd', 'ceph-osd', [...c, '-i', osdId, '-f']);
    // rgw creates its pools at start, which waits for the osd to be up and its PGs active.
    this.daemon('rgw', 'radosgw', [...c, '-n', 'client.rgw.a', '-f']);
    await this.waitForS3(120_000);
    await run('radosgw-admin', [
      ...c,
      '-n',
      'client.admin',
      'user',
      'create',
      '--uid=nqgw',
      '--display-name=nqgw tests',
      `--access-key=${accessKey}`,
      `--secret-key=${secretKey}`,
    ]);
    this.startSeconds = (performance.now() - t0) / 1000;
  }

  private daemon(name: string, cmd: string, args: string[]): void {
    const out = openSync(path.join(this.dir, 'log', `${name}.out`), 'a');
    const child = spawn(cmd, args, { stdio: ['ignore', out, out] });
    child.on('error', () => undefined);
    this.daemons.set(name, child);
  }

  /** Poll the S3 endpoint (an anonymous ListBuckets) until radosgw answers 200. */
  private async waitForS3(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      const rgw = this.daemons.get('rgw');
      if (rgw && rgw.exitCode !== null)
        throw new Error(`radosgw exited (${rgw.exitCode}); see ${this.dir}/log`);
      try {
        const res = await fetch(`${this.endpoint}/`, { signal: AbortSignal.timeout(2000) });
        if (res.status === 200) return;
        last = `HTTP ${res.status}`;
      } catch (err) {
        last = (err as Error).message;
      }
      if (Date.now() > deadline) throw new Error(`radosgw not answering on ${this.endpoint}: ${last}`);
      await sleep(200);
    }
  }

  /** The store goes away: radosgw is killed (the cluster keeps its data). */
  async stopGateway(): Promise<void> {
    const rgw = this.daemons.get('rgw');
    if (!rgw || rgw.exitCode !== null || rgw.signalCode !== null) return;
    const gone = new Promise((r) => rgw.once('exit', r));
    rgw.kill('SIGKILL');
    await gone;
  }

  /** radosgw back on the same port (about a second: its pools exist). */
  async startGateway(): Promise<void> {
    this.daemon('rgw', 'radosgw', ['-c', this.conf, '-n', 'client.rgw.a', '-f']);
    await this.waitForS3(60_000);
  }

  /** Synchronous kill of every daemon (the exit hook). */
  killNow(): void {
    for (const child of this.daemons.values()) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }

  /** Kill every daemon, wait for them, remove the dir. Safe to call twice. */
  async stop(): Promise<void> {
    const waits = [...this.daemons.values()]
      .filter((ch) => ch.exitCode === null && ch.signalCode === null)
      .map((ch) => new Promise((r) => ch.once('exit', r)));
    this.killNow();
    await Promise.all(waits);
    this.daemons.clear();
    live.delete(this);
    rmSync(this.dir, { recursive: true, force: true });
  }
}
