import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO } from '../../helpers/process.js';

export const SSHD = '/usr/sbin/sshd';
export const HAS_SSH = existsSync(SSHD) && spawnSync('ssh', ['-V']).status === 0;

/** A real sshd on a loopback port, in the foreground (-D), logging to stderr (-e). */
export class LoopbackSshd {
  readonly child: ChildProcess;
  log = '';
  readonly hostKeyPub: string;

  constructor(
    readonly name: string,
    readonly dir: string,
    readonly port: number,
    config: string,
  ) {
    mkdirSync(dir, { recursive: true });
    const hostKey = path.join(dir, 'ssh_host_ed25519_key');
    keygen(hostKey, `${name} host key`);
    this.hostKeyPub = readFileSync(`${hostKey}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
    const file = path.join(dir, 'sshd_config');
    writeFileSync(
      file,
      [
        `ListenAddress 127.0.0.1:${port}`,
        `HostKey ${hostKey}`,
        `PidFile ${path.join(dir, 'sshd.pid')}`,
        config,
      ].join('\n') + '\n',
    );
    // The privilege-separation directory sshd wants when started as root (absent on a host
    // without a running sshd).
    if (process.getuid?.() === 0) mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    this.child = spawn(SSHD, ['-D', '-e', '-f', file], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child.stderr!.on('data', (c: Buffer) => (this.log += c.toString()));
  }

  async ready(): Promise<void> {
    const deadline = Date.now() + 15_000;
    while (!/Server listening on 127\.0\.0\.1 port/.test(this.log)) {
      if (this.child.exitCode !== null) throw new Error(`sshd ${this.name} exited:\n${this.log}`);
      if (Date.now() > deadline) throw new Error(`sshd ${this.name} not listening:\n${this.log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The known_hosts line for this server (non-22 ports are written [host]:port). */
  knownHostsLine(): string {
    return `[127.0.0.1]:${this.port} ${this.hostKeyPub}`;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    await gone;
  }
}

export function keygen(file: string, comment: string): void {
  const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file]);
  if (r.status !== 0) throw new Error(`ssh-keygen: ${r.stderr.toString()}`);
  chmodSync(file, 0o600);
}

/** Who the test logs in as: the user running it (sshd started by a non-root user admits only them). */
export const LOGIN = os.userInfo().username;

/** Lines only the test needs, before everything else so that they win (sshd: first value wins). */
export function testOnlyLines(dir: string): string[] {
  return [
    `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
    'UsePAM no',
    'StrictModes no', // the temp dir's modes are the test's, not a home directory's
    // The image's template says PermitRootLogin no; CI containers run the tests as root.
    ...(process.getuid?.() === 0 ? ['PermitRootLogin prohibit-password'] : []),
  ];
}

/** The image's replica sshd drop-in (image/templates/sshd-nqgw.conf.tmpl), rendered for loopback. */
export function renderedReplicaTemplate(): string {
  return readFileSync(path.join(REPO, 'image/templates/sshd-nqgw.conf.tmpl'), 'utf8')
    .replaceAll('{{allow_users}}', LOGIN)
    .replaceAll('{{bastion_cidr}}', '127.0.0.1/32');
}

/** `nqgw` on a replica's PATH: this build, with that replica's own tw.ini. */
export function nqgwWrapper(binDir: string, twIni: string): void {
  mkdirSync(binDir, { recursive: true });
  const file = path.join(binDir, 'nqgw');
  writeFileSync(
    file,
    `#!/bin/sh\nNQGW_CONFIG='${twIni}' exec '${process.execPath}' '${path.join(REPO, 'bin/nqgw.js')}' "$@"\n`,
  );
  chmodSync(file, 0o755);
}
