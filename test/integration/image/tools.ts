/** Shared set-up of the image checks: the tools they run, and a scratch root for systemd. */
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../../../', import.meta.url));
export const IMAGE = join(REPO, 'image');
/** Every unit the image ships: services and the daily-start timer. */
export const UNITS = readdirSync(join(IMAGE, 'systemd'))
  .filter((n) => n.endsWith('.service') || n.endsWith('.timer'))
  .sort();
/** The services among them: what `systemd-analyze security` scores (a timer runs no process). */
export const SERVICES = UNITS.filter((n) => n.endsWith('.service'));

/** Debian package that provides each tool (what scripts/ci-deps/infra.sh installs). */
const PACKAGE: Record<string, string> = {
  packer: 'packer',
  'systemd-analyze': 'systemd',
  'cloud-init': 'cloud-init',
  shellcheck: 'shellcheck',
  nft: 'nftables',
  chronyd: 'chrony',
  sshd: 'openssh-server',
  debootstrap: 'debootstrap',
  unshare: 'util-linux',
};

const SEARCH = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

/**
 * Absolute path of a tool, or an error that says how CI gets it. These checks never skip: a
 * missing tool is a failed check, not a green one.
 */
export function tool(name: string): string {
  const path = [...(process.env.PATH ?? '').split(':'), ...SEARCH].filter(Boolean);
  for (const dir of path) {
    const candidate = join(dir, name);
    if (spawnSync('test', ['-x', candidate]).status === 0) return candidate;
  }
  throw new Error(
    `${name} is not installed: run "sudo bash scripts/ci-deps/infra.sh" (Debian package ${PACKAGE[name] ?? name})`,
  );
}

export function run(
  cmd: string,
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeout?: number } = {},
): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    cwd: opts.cwd ?? REPO,
    env: opts.env ?? process.env,
    timeout: opts.timeout ?? 120_000,
  });
  if (r.error) throw r.error;
  return r;
}

export function output(r: SpawnSyncReturns<string>): string {
  return `exit ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

export function requireRoot(what: string): void {
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new Error(
      `${what} needs root (CAP_NET_ADMIN / mount namespaces); run the image checks as root, as CI does`,
    );
  }
}

/**
 * A scratch root for `systemd-analyze verify --root`: the host's own unit files (so targets
 * resolve), the appliance's units in /etc/systemd/system, and an executable stub at every path
 * the units execute, so verify checks the units and not this machine's installed software.
 */
export function unitRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'nqgw-units-'));
  const hostUnits = ['/usr/lib/systemd/system', '/lib/systemd/system'].find(
    (d) => spawnSync('test', ['-d', d]).status === 0,
  );
  if (!hostUnits)
    throw new Error('no systemd unit directory on this host: install systemd (scripts/ci-deps/infra.sh)');
  mkdirSync(join(root, 'usr/lib/systemd'), { recursive: true });
  cpSync(hostUnits, join(root, 'usr/lib/systemd/system'), {
    recursive: true,
    dereference: false,
    verbatimSymlinks: true,
  });
  mkdirSync(join(root, 'etc/systemd/system'), { recursive: true });
  for (const unit of UNITS) {
    const text = readFileSync(join(IMAGE, 'systemd', unit), 'utf8');
    writeFileSync(join(root, 'etc/systemd/system', unit), text);
    for (const m of text.matchAll(/^Exec[A-Za-z]*=[-+!@:]*(\/\S+)/gm)) {
      const exe = join(root, m[1] as string);
      mkdirSync(dirname(exe), { recursive: true });
      writeFileSync(exe, '#!/bin/sh\nexit 0\n');
      chmodSync(exe, 0o755);
    }
  }
  return root;
}

/**
 * Like run(), without blocking the event loop: for checks that take minutes, during which the
 * vitest worker must keep answering its runner.
 */
export function runAsync(
  cmd: string,
  args: string[],
  opts: { timeout: number },
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGTERM'), opts.timeout);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}
