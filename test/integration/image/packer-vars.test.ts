import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../helpers/ports.js';
import { IMAGE, output, requireRoot, run, runAsync, tool } from './tools.js';

/**
 * The shell provisioner of image/nqgw.pkr.hcl, run by the real packer (1.6.6, null builder)
 * over SSH against an sshd on loopback, with a probe in place of the provisioning scripts: what
 * the probe sees in its environment is what 10-base.sh ... 90-cleanup.sh would see on the build
 * VM. (Its execute_command once left out {{ .Vars }}: no environment_vars reached the scripts.)
 */

const SHA = 'a'.repeat(64);
const VARS = {
  apt_mirror: 'http://10.9.0.5/debian',
  apt_security_mirror: 'http://10.9.0.5/debian-security',
  image_version: '0.1.0-test',
  node_sha256: SHA,
};

/** The template with its build block replaced by one that runs `probe` through its shell provisioner. */
function probeTemplate(executeCommand: string | null, port: number, key: string, probe: string): string {
  const text = readFileSync(join(IMAGE, 'nqgw.pkr.hcl'), 'utf8');
  const buildAt = text.indexOf('\nbuild {');
  const shell = /\n  provisioner "shell" \{\n(?:(?! {2}\}\n)[\s\S])*?scripts = \[[\s\S]*?\]\n {2}\}\n/.exec(
    text,
  );
  if (buildAt < 0 || !shell) throw new Error('nqgw.pkr.hcl: no build block with a shell provisioner');
  let provisioner = shell[0].replace(/scripts = \[[\s\S]*?\]/, `scripts = [${JSON.stringify(probe)}]`);
  if (executeCommand !== null) {
    provisioner = provisioner.replace(
      /execute_command = .*/,
      `execute_command = ${JSON.stringify(executeCommand)}`,
    );
  }
  return `${text.slice(0, buildAt)}
source "null" "probe" {
  communicator         = "ssh"
  ssh_host             = "127.0.0.1"
  ssh_port             = ${port}
  ssh_username         = "root"
  ssh_private_key_file = ${JSON.stringify(key)}
}

build {
  sources = ["source.null.probe"]
${provisioner}}
`;
}

describe.sequential('packer passes environment_vars to the provisioning scripts', () => {
  let tmp: string;
  let sshd: ChildProcess | undefined;
  let port = 0;
  let packer: string;

  beforeAll(async () => {
    requireRoot('sshd on loopback (packer connects as root)');
    packer = tool('packer');
    const sshdBin = tool('sshd');
    tmp = mkdtempSync(join(tmpdir(), 'nqgw-packer-vars-'));
    for (const [k, f] of [
      ['ed25519', 'hostkey'],
      ['ed25519', 'client'],
    ] as const) {
      const r = run('ssh-keygen', ['-q', '-t', k, '-N', '', '-f', join(tmp, f)]);
      if (r.status !== 0) throw new Error(output(r));
    }
    writeFileSync(join(tmp, 'authorized_keys'), readFileSync(join(tmp, 'client.pub')));
    writeFileSync(
      join(tmp, 'sshd_config'),
      [
        'ListenAddress 127.0.0.1',
        'Port 0',
        `HostKey ${join(tmp, 'hostkey')}`,
        `AuthorizedKeysFile ${join(tmp, 'authorized_keys')}`,
        'PermitRootLogin prohibit-password',
        'PasswordAuthentication no',
        'StrictModes no',
        'UsePAM no',
        'PidFile none',
        'Subsystem sftp internal-sftp',
        '',
      ].join('\n'),
    );
    // Port 0 is not allowed by sshd: take a free port from the kernel first.
    port = await freePort();
    const config = readFileSync(join(tmp, 'sshd_config'), 'utf8').replace('Port 0', `Port ${port}`);
    writeFileSync(join(tmp, 'sshd_config'), config);
    // sshd wants /run/sshd: give it one in a private mount namespace, not on this machine.
    sshd = spawn(
      'unshare',
      [
        '--mount',
        'sh',
        '-c',
        'mount -t tmpfs tmpfs /run && mkdir -m 0755 /run/sshd && exec "$0" -D -e -f "$1"',
        sshdBin,
        join(tmp, 'sshd_config'),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    await new Promise<void>((resolve, reject) => {
      let err = '';
      const timer = setTimeout(() => reject(new Error(`sshd did not listen:\n${err}`)), 20_000);
      sshd?.stderr?.setEncoding('utf8').on('data', (d: string) => {
        err += d;
        if (/Server listening on 127\.0\.0\.1 port/.test(err)) {
          clearTimeout(timer);
          resolve();
        }
      });
      sshd?.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`sshd exited ${code}:\n${err}`));
      });
    });
    sshd.removeAllListeners('exit');
  }, 60_000);

  afterAll(() => {
    sshd?.kill('SIGTERM');
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  /** packer build of the probe template; returns what the probe saw (NQGW_* lines) and packer's output. */
  async function build(name: string, executeCommand: string | null) {
    const dir = join(tmp, name);
    run('mkdir', ['-p', dir]);
    const seen = join(dir, 'seen.env');
    const probe = join(dir, 'probe.sh');
    writeFileSync(probe, `#!/bin/bash\n{ env | grep '^NQGW_' | sort; echo "uid=$(id -u)"; } > ${seen}\n`);
    chmodSync(probe, 0o755);
    writeFileSync(
      join(dir, 'probe.pkr.hcl'),
      probeTemplate(executeCommand, port, join(tmp, 'client'), probe),
    );
    writeFileSync(join(dir, 'bundle.tar.gz'), '');
    writeFileSync(join(dir, 'node.tar.xz'), '');
    const args = ['build', '-only=null.probe', '-var', `appliance_bundle=${join(dir, 'bundle.tar.gz')}`];
    args.push('-var', `node_dist=${join(dir, 'node.tar.xz')}`);
    for (const [k, v] of Object.entries(VARS)) args.push('-var', `${k}=${v}`);
    const r = await runAsync(packer, [...args, join(dir, 'probe.pkr.hcl')], { timeout: 120_000 });
    let text = '';
    try {
      text = readFileSync(seen, 'utf8');
    } catch {
      text = '';
    }
    return { r, seen: text };
  }

  it('the template as it is: every environment_vars entry reaches the script, as root', async () => {
    const { r, seen } = await build('current', null);
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(seen.split('\n').filter(Boolean)).toEqual([
      `NQGW_APT_MIRROR=${VARS.apt_mirror}`,
      `NQGW_APT_SECURITY_MIRROR=${VARS.apt_security_mirror}`,
      `NQGW_IMAGE_VERSION=${VARS.image_version}`,
      `NQGW_NODE_SHA256=${SHA}`,
      'NQGW_STAGE=/tmp/nqgw-image',
      'uid=0',
    ]);
  }, 150_000);

  it('the execute_command it had (no {{ .Vars }}) passes none of them: what this test catches', async () => {
    const { r, seen } = await build('old', "sudo -E bash '{{ .Path }}'");
    expect(r.status, `${r.stdout}\n${r.stderr}`).toBe(0);
    expect(seen).not.toMatch(/NQGW_/);
    expect(seen).toContain('uid=0');
  }, 150_000);
});
