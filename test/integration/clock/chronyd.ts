import { spawnSync, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { existsSync, mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { spawnTracked } from '../../helpers/leftovers.js';

/**
 * A real chronyd for the tests, started unprivileged-style: `-x` (never touches the system
 * clock), `-d` (foreground), its own config, pid file, drift file and command socket in a
 * private temp directory (chronyd refuses a socket directory others can enter, hence 0700).
 * As root we add `user root` so it does not drop to _chrony (which could not enter the
 * directory); as anyone else `-U` and `user <us>`.
 */

export function findChronyd(): string | null {
  for (const candidate of ['chronyd', '/usr/sbin/chronyd', '/sbin/chronyd']) {
    const r = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
    if (!r.error && r.status === 0) return candidate;
  }
  return null;
}

export function findChronyc(): string | null {
  for (const candidate of ['chronyc', '/usr/bin/chronyc']) {
    const r = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
    if (!r.error && r.status === 0) return candidate;
  }
  return null;
}

export async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export interface ChronydOptions {
  /** Serve NTP on this loopback port ("local stratum 1" time server). */
  servePort?: number;
  /** Synchronise (virtually, -x) to these NTP servers on loopback, polling every 0.25 s. */
  upstreamPorts?: number[];
}

export class TestChronyd {
  readonly dir: string;
  readonly socket: string;
  #child: ChildProcess | null = null;
  #log = '';

  constructor(
    readonly binary: string,
    readonly options: ChronydOptions,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'nqgw-chronyd-'));
    chmodSync(this.dir, 0o700);
    this.socket = join(this.dir, 'chronyd.sock');
  }

  get log(): string {
    return this.#log;
  }

  start(): void {
    const lines: string[] = [];
    if (this.options.servePort !== undefined) {
      lines.push(
        `port ${this.options.servePort}`,
        'bindaddress 127.0.0.1',
        'allow 127.0.0.1',
        'local stratum 1',
      );
    } else {
      lines.push('port 0');
    }
    for (const p of this.options.upstreamPorts ?? []) {
      lines.push(`server 127.0.0.1 port ${p} iburst minpoll -2 maxpoll -2`);
    }
    const root = process.getuid?.() === 0;
    lines.push(
      'cmdport 0',
      `bindcmdaddress ${this.socket}`,
      `pidfile ${join(this.dir, 'chronyd.pid')}`,
      `driftfile ${join(this.dir, 'drift')}`,
      `user ${root ? 'root' : userInfo().username}`,
    );
    const conf = join(this.dir, 'chrony.conf');
    writeFileSync(conf, lines.join('\n') + '\n');
    const args = ['-x', '-d', '-f', conf];
    if (!root) args.push('-U');
    const child = spawnTracked(this.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d: Buffer) => (this.#log += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.#log += d.toString()));
    this.#child = child;
  }

  get exited(): boolean {
    return this.#child === null || this.#child.exitCode !== null || this.#child.signalCode !== null;
  }

  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = null;
    if (child && child.exitCode === null && child.signalCode === null) {
      const gone = new Promise<void>((r) => child.once('exit', () => r()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await gone;
      clearTimeout(timer);
    }
    if (existsSync(this.dir)) rmSync(this.dir, { recursive: true, force: true });
  }
}
