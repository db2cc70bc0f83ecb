import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Hcl, parseFile } from '../../unit/infra/hcl.js';
import { IMAGE, output, requireRoot, run, tool } from './tools.js';

/**
 * The provisioning scripts (image/scripts/*.sh) run by bash, without a build VM:
 *  - each refuses to start without the variables packer passes (never a silent default);
 *  - 10-base.sh, in a private mount namespace whose /etc/apt, /boot and /lib/modules are scratch
 *    copies, with apt-get/dpkg-query/update-grub doubles that act on those copies: the Debian 12
 *    cloud image's deb822 mirror+file: sources end up on the mirror (security suite included),
 *    the generic kernel is installed, the cloud kernel purged and grub rebuilt.
 */

const SHA = 'b'.repeat(64);
const MIRROR = 'http://10.9.0.5/debian';
const SECURITY = 'http://10.9.0.5/debian-security';
const FULL_ENV: Record<string, string> = {
  NQGW_STAGE: '/nonexistent/nqgw-stage',
  NQGW_APT_MIRROR: MIRROR,
  NQGW_APT_SECURITY_MIRROR: SECURITY,
  NQGW_NODE_SHA256: SHA,
  NQGW_IMAGE_VERSION: '0.1.0',
};
const REQUIRED: Record<string, string[]> = {
  '10-base.sh': ['NQGW_STAGE', 'NQGW_APT_MIRROR', 'NQGW_APT_SECURITY_MIRROR'],
  '20-node.sh': ['NQGW_STAGE', 'NQGW_NODE_SHA256'],
  '30-appliance.sh': ['NQGW_STAGE', 'NQGW_IMAGE_VERSION'],
  '40-system.sh': ['NQGW_STAGE'],
  '90-cleanup.sh': ['NQGW_STAGE'],
};

/** A copy of /etc/apt/sources.list.d/debian.sources of Debian's debian-12-genericcloud-amd64. */
const CLOUD_DEBIAN_SOURCES = `Types: deb deb-src
URIs: mirror+file:///etc/apt/mirrors/debian.list
Suites: bookworm bookworm-updates bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb deb-src
URIs: mirror+file:///etc/apt/mirrors/debian-security.list
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`;

let scratch: string;
let emptyPath: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'nqgw-provision-'));
  emptyPath = join(scratch, 'no-commands');
  mkdirSync(emptyPath);
});
afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** bash SCRIPT with exactly `env` and a PATH where no command exists: nothing outside bash can run. */
function bare(script: string, env: Record<string, string>) {
  return run('/bin/bash', [join(IMAGE, 'scripts', script)], { env: { ...env, PATH: emptyPath } });
}

describe('provisioning scripts refuse to run without what packer passes', () => {
  it('the packer template passes every variable a script requires', async () => {
    const pkr: Hcl = await parseFile(join(IMAGE, 'nqgw.pkr.hcl'));
    const shell = ((pkr.build[0].provisioner as Hcl).shell as Hcl[]).find((s) => s.scripts) as Hcl;
    const passed = (shell.environment_vars as string[]).map((v) => v.slice(0, v.indexOf('=')));
    const required = [...new Set(Object.values(REQUIRED).flat())].sort();
    expect(passed).toEqual(expect.arrayContaining(required));
    expect(String(shell.execute_command)).toMatch(/\{\{ *\.Vars *\}\}/);
  });

  const cases = Object.entries(REQUIRED).flatMap(([script, vars]) => vars.map((v) => [script, v] as const));
  it.each(cases)('%s stops at once without %s', (script, name) => {
    const env = { ...FULL_ENV };
    delete env[name];
    const r = bare(script, env);
    expect(r.status, output(r)).toBe(1);
    expect(r.stderr).toContain(`${name}: is not set`);
    // It stopped before its first command (with no PATH, any command would say "not found").
    expect(r.stderr).not.toMatch(/command not found/);
  });

  it.each(Object.keys(REQUIRED))('%s stops on an empty value as on a missing one', (script) => {
    const name = REQUIRED[script]![REQUIRED[script]!.length - 1]!;
    const r = bare(script, { ...FULL_ENV, [name]: '' });
    expect(r.status, output(r)).toBe(1);
    expect(r.stderr).toContain(`${name}: is not set`);
  });

  it('20-node.sh refuses a value that is not a SHA-256, and 30-appliance.sh a bad version', () => {
    let r = bare('20-node.sh', { ...FULL_ENV, NQGW_NODE_SHA256: 'skip' });
    expect(r.status, output(r)).toBe(1);
    expect(r.stderr).toContain('is not a SHA-256');
    r = bare('30-appliance.sh', { ...FULL_ENV, NQGW_IMAGE_VERSION: 'latest' });
    expect(r.status, output(r)).toBe(1);
    expect(r.stderr).toContain('is not a version');
  });

  it('20-node.sh refuses a Node tarball whose SHA-256 does not match (before touching /opt/node)', () => {
    requireRoot('a private mount namespace');
    const stage = join(scratch, 'stage-node');
    mkdirSync(stage, { recursive: true });
    writeFileSync(join(stage, 'node.tar.xz'), 'not the tarball that was checked');
    // /opt is a scratch tmpfs in this namespace: even a broken check cannot touch this machine.
    const r = run(
      'unshare',
      [
        '--mount',
        'sh',
        '-c',
        'mount -t tmpfs tmpfs /opt && exec /bin/bash "$0"',
        join(IMAGE, 'scripts', '20-node.sh'),
      ],
      { env: { ...FULL_ENV, NQGW_STAGE: stage, PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } },
    );
    expect(r.status, output(r)).toBe(1);
    expect(r.stderr).toMatch(/does not match NQGW_NODE_SHA256 b{64} \(sha256 [0-9a-f]{64}\)/);
  });
});

describe('image/build/apt-mirror.sh on copies of apt sources', () => {
  function tree(name: string, files: Record<string, string>): string {
    const root = join(scratch, name);
    for (const [rel, text] of Object.entries(files)) {
      mkdirSync(join(root, rel, '..'), { recursive: true });
      writeFileSync(join(root, rel), text);
    }
    return root;
  }
  const mirror = (root: string) =>
    run('bash', [join(IMAGE, 'build', 'apt-mirror.sh'), root, `${MIRROR}/`, SECURITY]);

  /** The URIs apt itself would fetch for this root's sources (apt-get update --print-uris: no network). */
  function aptUris(root: string): string[] {
    const dirs = ['lists/partial', 'cache', 'etc/apt/preferences.d', 'etc/apt/apt.conf.d'];
    for (const d of dirs) mkdirSync(join(root, 'apt-state', d), { recursive: true });
    const r = run('apt-get', [
      '-o',
      `Dir::Etc::SourceList=${join(root, 'etc/apt/sources.list')}`,
      '-o',
      `Dir::Etc::SourceParts=${join(root, 'etc/apt/sources.list.d')}`,
      '-o',
      `Dir::Etc::Parts=${join(root, 'apt-state/etc/apt/apt.conf.d')}`,
      '-o',
      `Dir::Etc::PreferencesParts=${join(root, 'apt-state/etc/apt/preferences.d')}`,
      '-o',
      `Dir::State::Lists=${join(root, 'apt-state/lists')}`,
      '-o',
      `Dir::Cache=${join(root, 'apt-state/cache')}`,
      '-o',
      'Debug::NoLocking=1',
      'update',
      '--print-uris',
    ]);
    expect(r.status, output(r)).toBe(0);
    return [...r.stdout.matchAll(/^'([^']+)'/gm)].map((m) => m[1]!);
  }

  it('Debian 12 cloud image: deb822 mirror+file: stanzas and the mirror lists, security suite included', () => {
    const root = tree('cloud', {
      'etc/apt/sources.list': '# See /etc/apt/sources.list.d/debian.sources\n',
      'etc/apt/sources.list.d/debian.sources': CLOUD_DEBIAN_SOURCES,
      'etc/apt/mirrors/debian.list': 'https://deb.debian.org/debian\n',
      'etc/apt/mirrors/debian-security.list': 'https://deb.debian.org/debian-security\n',
    });
    // As it comes, apt would go through the mirror lists to deb.debian.org.
    expect(aptUris(root).every((u) => u.startsWith('mirror+file:'))).toBe(true);
    const r = mirror(root);
    expect(r.status, output(r)).toBe(0);
    expect(r.stdout).toContain('rewrote /etc/apt/sources.list.d/debian.sources');
    const text = readFileSync(join(root, 'etc/apt/sources.list.d/debian.sources'), 'utf8');
    expect(text).toBe(
      CLOUD_DEBIAN_SOURCES.replace('mirror+file:///etc/apt/mirrors/debian.list', MIRROR).replace(
        'mirror+file:///etc/apt/mirrors/debian-security.list',
        SECURITY,
      ),
    );
    expect(readFileSync(join(root, 'etc/apt/mirrors/debian.list'), 'utf8')).toBe(`${MIRROR}\n`);
    expect(readFileSync(join(root, 'etc/apt/mirrors/debian-security.list'), 'utf8')).toBe(`${SECURITY}\n`);
    const uris = aptUris(root);
    expect(uris.length).toBeGreaterThan(0);
    for (const u of uris) expect(u.startsWith(`${MIRROR}/`) || u.startsWith(`${SECURITY}/`), u).toBe(true);
    expect(uris).toContain(`${SECURITY}/dists/bookworm-security/InRelease`);
    expect(uris).toContain(`${MIRROR}/dists/bookworm-backports/InRelease`);
    // A second run changes nothing.
    const again = mirror(root);
    expect(again.status, output(again)).toBe(0);
    expect(again.stdout).not.toContain('rewrote');
  });

  it('one-line sources: main and security archives, options kept, other repositories and comments untouched', () => {
    const list = [
      '# deb http://deb.debian.org/debian bookworm main',
      'deb http://deb.debian.org/debian bookworm main contrib',
      'deb-src https://deb.debian.org/debian/ bookworm-updates main',
      'deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://security.debian.org/debian-security bookworm-security main',
      'deb [signed-by=/etc/apt/keyrings/vendor.asc] https://packages.example.com/debian bookworm stable',
      '',
    ].join('\n');
    const root = tree('oneline', { 'etc/apt/sources.list': list });
    const r = mirror(root);
    expect(r.status, output(r)).toBe(0);
    expect(readFileSync(join(root, 'etc/apt/sources.list'), 'utf8').split('\n')).toEqual([
      '# deb http://deb.debian.org/debian bookworm main',
      `deb ${MIRROR} bookworm main contrib`,
      `deb-src ${MIRROR} bookworm-updates main`,
      `deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] ${SECURITY} bookworm-security main`,
      'deb [signed-by=/etc/apt/keyrings/vendor.asc] https://packages.example.com/debian bookworm stable',
      '',
    ]);
  });

  it('fails, naming it, when a Debian source it cannot place is left (the build would stop offline)', () => {
    const root = tree('ports', {
      'etc/apt/sources.list.d/ports.sources':
        'Types: deb\nURIs: http://deb.debian.org/debian-ports\nSuites: sid\nComponents: main\n',
    });
    const r = mirror(root);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('still not on the mirror: http://deb.debian.org/debian-ports');
  });

  it('refuses a mirror that is not an http(s) URL', () => {
    const r = run('bash', [
      join(IMAGE, 'build', 'apt-mirror.sh'),
      join(scratch, 'none'),
      'ftp://x/debian',
      SECURITY,
    ]);
    expect(r.status).toBe(64);
  });
});

/**
 * 10-base.sh end to end in a private mount namespace. apt-get, dpkg-query, debconf-set-selections
 * and update-grub are doubles that log their calls and act on the namespace's scratch /boot and
 * /lib/modules as the real packages would; everything else (bash, awk, the mirror rewrite, the
 * kernel checks) is real.
 */
describe('10-base.sh: mirror, packages, the generic kernel only', () => {
  const CLOUD = '6.1.0-28-cloud-amd64';
  const GENERIC = '6.1.0-28-amd64';
  let dir: string;

  function doubles(purgeWorks: boolean): string {
    const bin = join(dir, 'bin');
    mkdirSync(bin, { recursive: true });
    const log = join(dir, 'calls.log');
    const script = (name: string, body: string) => {
      writeFileSync(join(bin, name), `#!/bin/bash\necho "${name} $*" >> ${log}\n${body}\n`);
      chmodSync(join(bin, name), 0o755);
    };
    script(
      'apt-get',
      `case " $* " in
  *" install "*linux-image-amd64*)
    printf 'CONFIG_USB_SUPPORT=y\\n' > /boot/config-${GENERIC}; : > /boot/vmlinuz-${GENERIC}
    mkdir -p /lib/modules/${GENERIC}/kernel/drivers/usb/usbip
    : > /lib/modules/${GENERIC}/kernel/drivers/usb/usbip/vhci-hcd.ko ;;
  *" purge "*) ${purgeWorks ? `rm -f /boot/*-${CLOUD}; rm -rf /lib/modules/${CLOUD}` : ':'} ;;
esac`,
    );
    script(
      'dpkg-query',
      `printf '%s\\n' 'linux-image-${CLOUD} installed' 'linux-image-cloud-amd64 installed' \\
  'linux-image-${GENERIC} installed' 'linux-image-amd64 installed' 'linux-image-6.1.0-9-cloud-amd64 config-files'`,
    );
    script('debconf-set-selections', `cat >> ${join(dir, 'debconf.txt')}`);
    script('update-grub', ':');
    return bin;
  }

  function provision(purgeWorks: boolean) {
    requireRoot('mount namespaces');
    dir = mkdtempSync(join(scratch, 'base-'));
    const bin = doubles(purgeWorks);
    const stage = join(dir, 'stage');
    cpSync(join(IMAGE, 'build'), join(stage, 'build'), { recursive: true });
    const seed = join(dir, 'seed');
    mkdirSync(join(seed, 'etc/apt/sources.list.d'), { recursive: true });
    mkdirSync(join(seed, 'etc/apt/mirrors'), { recursive: true });
    writeFileSync(join(seed, 'etc/apt/sources.list.d/debian.sources'), CLOUD_DEBIAN_SOURCES);
    writeFileSync(join(seed, 'etc/apt/mirrors/debian.list'), 'https://deb.debian.org/debian\n');
    writeFileSync(
      join(seed, 'etc/apt/mirrors/debian-security.list'),
      'https://deb.debian.org/debian-security\n',
    );
    const out = join(dir, 'out');
    mkdirSync(out);
    // Scratch /etc/apt and /boot (tmpfs), /usr/lib (overlay, to give it a modules/ directory)
    // with the cloud kernel "installed"; then 10-base.sh; then copy what it left for the checks.
    const setup = `set -eu
mount -t tmpfs tmpfs /etc/apt && cp -a ${seed}/etc/apt/. /etc/apt/
mount -t tmpfs tmpfs /boot
printf '# CONFIG_USB_SUPPORT is not set\\n' > /boot/config-${CLOUD}; : > /boot/vmlinuz-${CLOUD}
mkdir -p ${dir}/upper ${dir}/work
mount -t overlay overlay -o lowerdir=/usr/lib,upperdir=${dir}/upper,workdir=${dir}/work /usr/lib
mkdir -p /lib/modules/${CLOUD}/kernel
rc=0
env -i PATH=${bin}:/usr/sbin:/usr/bin:/sbin:/bin NQGW_STAGE=${stage} NQGW_APT_MIRROR=${MIRROR} \\
  NQGW_APT_SECURITY_MIRROR=${SECURITY} /bin/bash ${join(IMAGE, 'scripts', '10-base.sh')} || rc=$?
cp -a /etc/apt ${out}/apt; ls /boot > ${out}/boot.txt
exit $rc`;
    const r = run('unshare', ['--mount', 'bash', '-c', setup]);
    return {
      r,
      calls: readFileSync(join(dir, 'calls.log'), 'utf8').trim().split('\n'),
      debconf: readFileSync(join(dir, 'debconf.txt'), { encoding: 'utf8', flag: 'a+' }),
      boot: readFileSync(join(out, 'boot.txt'), 'utf8').trim().split('\n'),
      sources: readFileSync(join(out, 'apt/sources.list.d/debian.sources'), 'utf8'),
    };
  }

  it('points apt at the mirrors, installs the generic kernel, purges the cloud one, rebuilds grub', () => {
    tool('unshare');
    const p = provision(true);
    expect(p.r.status, output(p.r)).toBe(0);
    expect(p.sources).toContain(`URIs: ${MIRROR}\n`);
    expect(p.sources).toContain(`URIs: ${SECURITY}\n`);
    expect(p.sources).not.toContain('mirror+file');
    // In this order: the mirror is set before apt-get update; the cloud kernel goes only once the
    // generic one is in; grub is rebuilt after.
    expect(p.calls[0]).toBe('apt-get update -qq');
    expect(p.calls[1]).toMatch(/^apt-get install .* chrony .* usbip /);
    expect(p.calls[2]).toBe('apt-get install -y -qq --no-install-recommends linux-image-amd64');
    expect(p.calls).toContain(`apt-get purge -y -qq linux-image-${CLOUD} linux-image-cloud-amd64`);
    expect(p.calls.findIndex((c) => c.startsWith('update-grub'))).toBeGreaterThan(
      p.calls.findIndex((c) => c.startsWith('apt-get purge')),
    );
    expect(p.debconf).toBe('linux-base linux-base/removing-running-kernel boolean false\n');
    expect(p.boot.sort()).toEqual([`config-${GENERIC}`, `vmlinuz-${GENERIC}`]);
    expect(p.r.stdout).toContain(`kernel ${GENERIC}: USB support and vhci-hcd present`);
  });

  it('fails the build when the cloud kernel is still in /boot afterwards', () => {
    const p = provision(false);
    expect(p.r.status, output(p.r)).toBe(1);
    expect(p.r.stderr).toContain(`the cloud kernel ${CLOUD} is still in /boot`);
  });
});
