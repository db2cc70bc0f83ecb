import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FleetError } from './errors.js';
import type { Replica } from './inventory.js';

/** How to reach the replicas: the system ssh client through the bastion, never a password. */
export interface SshOptions {
  /** The bastion (堡垒机): `[user@]host[:port]`. */
  bastion: string;
  /** known_hosts with the bastion's and every replica's host key: nothing is accepted blindly. */
  knownHosts: string;
  /** Login name on the replicas (default: ssh's, the local user). */
  user?: string;
  identity?: string;
  /** Seconds for one replica's whole answer (connect, both hops, the commands). Default 30. */
  timeoutS?: number;
  /** The ssh binary (default: ssh on PATH). */
  ssh?: string;
}

export interface SshResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * An ssh_config for this run, passed with -F so that the jump through the bastion (ProxyJump,
 * which starts a second ssh) uses the same strict settings: BatchMode (no password or passphrase
 * prompt hangs a check), StrictHostKeyChecking against the operator's known_hosts only, and no
 * agent or port forwarding of ours.
 */
export function sshConfigText(o: SshOptions): string {
  const b = /^(?:([\w.-]+)@)?(\[[0-9a-fA-F:.]+\]|[\w.-]+)(?::(\d+))?$/.exec(o.bastion);
  if (!b)
    throw new FleetError(
      'NQ661',
      `--bastion ${o.bastion}: not [user@]host[:port]`,
      'e.g. --bastion ops@10.80.0.5',
    );
  // A path goes into the file quoted: one with a quote or a line break would write other settings.
  for (const [what, p] of [
    ['--known-hosts', o.knownHosts],
    ['--identity', o.identity ?? ''],
  ] as const)
    if (/["\r\n]/.test(p))
      throw new FleetError('NQ661', `${what}: a path with a quote or line break`, 'Rename the file.');
  const lines = [
    'Host nqgw-bastion',
    `  HostName ${b[2]!.replace(/^\[|\]$/g, '')}`,
    ...(b[3] ? [`  Port ${b[3]}`] : []),
    ...(b[1] ? [`  User ${b[1]}`] : []),
    'Host *',
    '  BatchMode yes',
    '  StrictHostKeyChecking yes',
    `  UserKnownHostsFile "${o.knownHosts}"`,
    '  GlobalKnownHostsFile /dev/null',
    '  UpdateHostKeys no',
    '  ForwardAgent no',
    '  ClearAllForwardings yes',
    '  ConnectTimeout 10',
    '  ServerAliveInterval 5',
    '  ServerAliveCountMax 3',
    '  LogLevel ERROR',
    ...(o.identity ? [`  IdentityFile "${o.identity}"`, '  IdentitiesOnly yes'] : []),
  ];
  return `${lines.join('\n')}\n`;
}

/** Check the options before any connection: a missing known_hosts is a wrong call, not a finding. */
export function checkSshOptions(o: SshOptions): void {
  if (!existsSync(o.knownHosts)) {
    throw new FleetError(
      'NQ661',
      `--known-hosts ${o.knownHosts}: does not exist`,
      'Give the known_hosts with the bastion and replica host keys (collected when they were built, e.g. from the console log).',
    );
  }
  if (o.identity && !existsSync(o.identity))
    throw new FleetError(
      'NQ661',
      `--identity ${o.identity}: does not exist`,
      'Give the private key file, or leave it out to use ssh-agent.',
    );
  sshConfigText(o);
}

/** A temp dir with the ssh_config; removed by the returned function. */
export function writeSshConfig(o: SshOptions): { file: string; remove: () => void } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nqgw-fleet-'));
  const file = path.join(dir, 'ssh_config');
  writeFileSync(file, sshConfigText(o), { mode: 0o600 });
  return { file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Run `command` on one replica through the bastion (ssh -J). Never throws for the remote side. */
export function runOnReplica(
  r: Replica,
  command: string,
  o: SshOptions,
  configFile: string,
): Promise<SshResult> {
  const target = `${o.user ? `${o.user}@` : ''}${r.host}`;
  const args = ['-F', configFile, '-J', 'nqgw-bastion', '-p', String(r.port), '-T', target, command];
  return new Promise((resolve) => {
    const child = spawn(o.ssh ?? 'ssh', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(
      () => {
        stderr += `\nno answer within ${o.timeoutS ?? 30} s`;
        child.kill('SIGKILL');
      },
      (o.timeoutS ?? 30) * 1000,
    );
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr: `${stderr}${err.message}` });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
