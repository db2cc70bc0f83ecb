import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { waitUntil } from '../process.js';
import type { Netns } from './netns.js';
import type { RunResult } from './run.js';

const SMB_FILE = path.resolve(
  path.dirname(new URL(import.meta.url).pathname),
  '../../../scripts/drsite/smb-file.py',
);

/**
 * The broker's counter share: a private smbd (its own smb.conf, pid, lock, state and private
 * directories under `dir`, never the system's Samba) serving `dir/share` as share `counter` on
 * port 445 of the namespace's loopback, which the guests reach as //10.0.2.2/counter.
 * One SMB account, `user` (mapped to root on this side: no account is added to the machine).
 */
export class CounterShare {
  readonly shareDir: string;
  readonly user = 'counter';
  readonly password: string;
  private readonly conf: string;
  private readonly clientConf: string;
  private smbd: ChildProcess | null = null;
  log = '';

  constructor(
    private readonly ns: Netns,
    private readonly dir: string,
    password: string,
  ) {
    this.password = password;
    this.shareDir = path.join(dir, 'share');
    this.conf = path.join(dir, 'smb.conf');
    this.clientConf = path.join(dir, 'client.conf');
  }

  async start(): Promise<void> {
    const d = this.dir;
    for (const sub of ['share', 'run', 'lock', 'state', 'cache', 'private', 'ncalrpc', 'log']) {
      mkdirSync(path.join(d, sub), { recursive: true, mode: sub === 'private' ? 0o700 : 0o755 });
    }
    writeFileSync(path.join(d, 'users.map'), `root = ${this.user}\n`);
    writeFileSync(
      this.conf,
      `[global]
  server role = standalone server
  workgroup = DRSITE
  netbios name = COUNTER
  security = user
  map to guest = never
  passdb backend = tdbsam:${d}/private/passdb.tdb
  username map = ${d}/users.map
  smb ports = 445
  server min protocol = SMB2_10
  pid directory = ${d}/run
  lock directory = ${d}/lock
  state directory = ${d}/state
  cache directory = ${d}/cache
  private dir = ${d}/private
  ncalrpc dir = ${d}/ncalrpc
  log file = ${d}/log/smbd.log
  log level = 1
  load printers = no
  printing = bsd
  printcap name = /dev/null
  disable spoolss = yes
  disable netbios = yes
  # A Windows counter's share: byte-range locks and share modes enforced for every client.
  kernel oplocks = no
  strict locking = yes

[counter]
  path = ${this.shareDir}
  read only = no
  valid users = root
  create mask = 0664
`,
    );
    writeFileSync(this.clientConf, '[global]\n  client min protocol = SMB2_10\n');
    const add = await this.ns.run('smbpasswd', ['-c', this.conf, '-a', '-s', 'root'], {
      input: `${this.password}\n${this.password}\n`,
      timeoutMs: 30_000,
    });
    if (add.status !== 0) throw new Error(`smbpasswd: ${add.stderr}${add.stdout}`);
    this.smbd = this.ns.spawn(
      'smbd',
      ['--foreground', '--no-process-group', '--debug-stdout', '-s', this.conf],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const onData = (c: Buffer): void => {
      this.log = (this.log + c.toString('utf8')).slice(-20_000);
    };
    this.smbd.stdout!.on('data', onData);
    this.smbd.stderr!.on('data', onData);
    // Ready when a client gets a listing of the share (port 445 answering and the login working).
    await waitUntil(
      async () => (await this.client('ls', '')).status === 0,
      `smbd answering on the namespace's port 445\n${this.log}`,
      30_000,
      200,
    );
  }

  private client(op: string, remote: string, input?: string | Buffer): Promise<RunResult> {
    return this.ns.run('/usr/bin/python3', [SMB_FILE, op, remote], {
      input,
      timeoutMs: 60_000,
      env: this.env(),
    });
  }

  /** The whole file, read through SMB. */
  async get(remote: string): Promise<Buffer> {
    const r = await this.client('get', remote);
    if (r.status !== 0) throw new Error(`smb get ${remote}: ${r.stderr}`);
    return r.bytes;
  }

  async put(remote: string, bytes: Buffer): Promise<void> {
    const r = await this.client('put', remote, bytes);
    if (r.status !== 0) throw new Error(`smb put ${remote}: ${r.stderr}`);
  }

  /** Writes each chunk in place through one SMB handle, in order (a counter appending records). */
  async pwrite(remote: string, chunks: { offset: number; bytes: Buffer }[]): Promise<void> {
    const body = JSON.stringify(chunks.map((c) => ({ offset: c.offset, hex: c.bytes.toString('hex') })));
    const r = await this.client('pwrite', remote, body);
    if (r.status !== 0) throw new Error(`smb pwrite ${remote}: ${r.stderr}`);
  }

  async exists(remote: string): Promise<boolean> {
    const r = await this.client('exists', remote);
    if (r.status !== 0 && r.status !== 1) throw new Error(`smb exists ${remote}: ${r.stderr}`);
    return r.status === 0;
  }

  /** The file's modification time as the server has it (epoch ms), or null when it is absent. */
  async mtimeMs(remote: string): Promise<number | null> {
    const r = await this.client('mtime', remote);
    if (r.status === 1) return null;
    if (r.status !== 0) throw new Error(`smb mtime ${remote}: ${r.stderr}`);
    return Number(r.stdout.trim()) * 1000;
  }

  async unlink(remote: string): Promise<void> {
    const r = await this.client('unlink', remote);
    if (r.status !== 0) throw new Error(`smb unlink ${remote}: ${r.stderr}`);
  }

  private env(): NodeJS.ProcessEnv {
    return {
      PATH: process.env['PATH'],
      SMB_SERVER: '127.0.0.1',
      SMB_SHARE: 'counter',
      SMB_USER: this.user,
      SMB_PASSWORD: this.password,
      SMB_CONF: this.clientConf,
    };
  }

  stop(): void {
    if (this.smbd && this.smbd.exitCode === null) this.smbd.kill('SIGKILL');
  }
}
