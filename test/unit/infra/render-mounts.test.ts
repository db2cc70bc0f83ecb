import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REPO } from './hcl.js';
import { EXAMPLE_HOST } from './user-data-template.js';
import { CIFS_SHARE, NFS_SHARE, STATE_VOLUME } from './mount-fixtures.js';

const RENDERER = join(REPO, 'image', 'files', 'nqgw-render-host.mjs');
const TEMPLATES = join(REPO, 'image', 'templates');

describe('nqgw-render-host: the counter share and the state volume', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nqgw-mounts-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function render(host: unknown) {
    writeFileSync(join(dir, 'host.json'), JSON.stringify(host));
    return spawnSync(
      process.execPath,
      [RENDERER, '--host', join(dir, 'host.json'), '--templates', TEMPLATES, '--root', join(dir, 'root')],
      { encoding: 'utf8' },
    );
  }
  const read = (rel: string) => readFileSync(join(dir, 'root', rel), 'utf8');
  const unit = (name: string) => read(`etc/systemd/system/${name}`);
  /** key=value lines of a unit, by key (repeated keys kept in order). */
  const keys = (text: string) => {
    const out: Record<string, string[]> = {};
    for (const m of text.matchAll(/^([A-Za-z]+)=(.*)$/gm)) (out[m[1]!] ??= []).push(m[2]!);
    return out;
  };

  it('CIFS: a mount unit named after the mount point, with the options that show the other side at once', () => {
    const r = render({ ...EXAMPLE_HOST, counter_share: CIFS_SHARE });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const m = keys(unit('srv-counter.mount'));
    expect(m.What).toEqual(['//10.0.2.2/counter']);
    expect(m.Where).toEqual(['/srv/counter']);
    expect(m.Type).toEqual(['cifs']);
    const options = m.Options![0]!.split(',');
    expect(options).toEqual(
      expect.arrayContaining([
        'credentials=/etc/nqgw/secrets/counter-share.cred',
        'cache=none',
        'actimeo=0',
        'uid=nqgw',
        'gid=nqgw',
        'file_mode=0660',
      ]),
    );
    expect(options.find((o) => o.startsWith('vers='))).toMatch(/^vers=3(\.\d+)*$/);
    // Never a password in a unit file (world-readable): only the path of the credentials file.
    expect(options.some((o) => /^(password|pass|username|user)=/.test(o))).toBe(false);
    // It cannot mount before the operator has placed the credentials; then the path unit starts it.
    expect(m.AssertPathExists).toEqual(['/etc/nqgw/secrets/counter-share.cred']);
    const path = keys(unit('nqgw-counter-share.path'));
    expect(path.PathExists).toEqual(['/etc/nqgw/secrets/counter-share.cred']);
    expect(path.Unit).toEqual(['srv-counter.mount']);
    // The gateway starts only with the share mounted, and may write there.
    const dropIn = keys(read('etc/systemd/system/nqgw.service.d/50-counter-share.conf'));
    expect(dropIn.RequiresMountsFor).toEqual(['/srv/counter']);
    expect(dropIn.ReadWritePaths).toEqual(['/srv/counter']);
    // SMB to the file server only.
    const nft = read('etc/nftables.d/nqgw.nft');
    expect(nft).toMatch(/^ {4}ip daddr 10\.0\.2\.2 tcp dport 445 accept$/m);
    expect(nft).not.toContain('2049');
    expect(read('etc/nqgw/firstboot.env')).toBe(
      'NQGW_TW_TEMPLATE=cloud-production\n' +
        'NQGW_UNITS_ENABLE="srv-counter.mount nqgw-counter-share.path"\n' +
        'NQGW_UNITS_START=""\n' +
        'NQGW_UNITS_START_NO_BLOCK="nqgw-counter-share.path"\n' +
        'NQGW_STATE_DEVICE=""\n',
    );
  });

  it('NFS: NFSv4 with no attribute or lookup cache, hard, port 2049 only, no credentials or path unit', () => {
    expect(render({ ...EXAMPLE_HOST, counter_share: NFS_SHARE }).status).toBe(0);
    const m = keys(unit('srv-counter.mount'));
    expect(m.What).toEqual(['10.80.4.20:/export/counter']);
    expect(m.Type).toEqual(['nfs4']);
    expect(m.Options![0]!.split(',')).toEqual(
      expect.arrayContaining(['actimeo=0', 'lookupcache=none', 'hard', 'vers=4']),
    );
    expect(m.AssertPathExists).toBeUndefined();
    expect(existsSync(join(dir, 'root', 'etc/systemd/system/nqgw-counter-share.path'))).toBe(false);
    expect(read('etc/nftables.d/nqgw.nft')).toMatch(/^ {4}ip daddr 10\.80\.4\.20 tcp dport 2049 accept$/m);
    expect(read('etc/nqgw/firstboot.env')).toContain('NQGW_UNITS_START_NO_BLOCK="srv-counter.mount"\n');
  });

  it('names the mount unit as systemd-escape does for another mount point', () => {
    const share = { ...CIFS_SHARE, mount_point: '/mnt/dbf-share/nq' };
    expect(render({ ...EXAMPLE_HOST, counter_share: share }).status).toBe(0);
    const name = 'mnt-dbf\\x2dshare-nq.mount';
    const escaped = spawnSync('systemd-escape', ['--path', '--suffix=mount', share.mount_point], {
      encoding: 'utf8',
    });
    if (!escaped.error) expect(escaped.stdout.trim()).toBe(name);
    expect(keys(unit(name)).Where).toEqual(['/mnt/dbf-share/nq']);
  });

  it('the state volume: mounted at /var/lib/nqgw by its by-id name, after the format-if-blank unit', () => {
    expect(render({ ...EXAMPLE_HOST, state_volume: STATE_VOLUME }).status).toBe(0);
    const m = keys(unit('var-lib-nqgw.mount'));
    expect(m.What).toEqual([STATE_VOLUME.device]);
    expect(m.Where).toEqual(['/var/lib/nqgw']);
    expect(m.Type).toEqual(['ext4']);
    expect(m.Requires).toEqual(['nqgw-state-volume.service']);
    expect(m.After).toEqual(['nqgw-state-volume.service']);
    const svc = keys(unit('nqgw-state-volume.service'));
    expect(svc.ExecStart).toEqual([`/usr/local/libexec/nqgw/nqgw-state-volume.sh ${STATE_VOLUME.device}`]);
    // Waits for the device itself (systemd's device unit for the by-id link).
    expect(svc.Requires).toEqual(['dev-disk-by\\x2did-virtio\\x2d0f1e2d3c\\x2d4b5a\\x2d6978\\x2d8.device']);
    expect(svc.Before).toContain('var-lib-nqgw.mount');
    const dropIn = keys(read('etc/systemd/system/nqgw.service.d/50-state-volume.conf'));
    expect(dropIn.RequiresMountsFor).toEqual(['/var/lib/nqgw']);
    expect(read('etc/nqgw/firstboot.env')).toContain('NQGW_UNITS_START="var-lib-nqgw.mount"\n');
    // First boot waits for the device: Terraform attaches the volume after the server is up.
    expect(read('etc/nqgw/firstboot.env')).toContain(`NQGW_STATE_DEVICE="${STATE_VOLUME.device}"\n`);
  });

  it('without counter_share or state_volume: no units, firstboot.env as before', () => {
    expect(render(EXAMPLE_HOST).status).toBe(0);
    expect(existsSync(join(dir, 'root', 'etc/systemd'))).toBe(false);
    expect(read('etc/nqgw/firstboot.env')).toBe('NQGW_TW_TEMPLATE=cloud-production\n');
  });

  it.each([
    [
      'a password in host.json',
      { ...CIFS_SHARE, password: 'secret' },
      /exactly \{ protocol, source, mount_point, credentials_file \}/,
    ],
    ['a host name as the server', { ...CIFS_SHARE, source: '//fileserver/counter' }, /counter_share\.source/],
    ['an nfs source for cifs', { ...CIFS_SHARE, source: '10.0.2.2:/export' }, /counter_share\.source/],
    [
      'credentials outside /etc/nqgw/secrets',
      { ...CIFS_SHARE, credentials_file: '/root/cred' },
      /credentials_file/,
    ],
    ['a mount point over the system', { ...CIFS_SHARE, mount_point: '/etc' }, /mount_point/],
    ['an unknown protocol', { ...CIFS_SHARE, protocol: 'smb' }, /cifs or nfs/],
    [
      'nfs with credentials',
      { ...NFS_SHARE, credentials_file: '/etc/nqgw/secrets/x' },
      /exactly \{ protocol, source, mount_point \}/,
    ],
  ])('refuses counter_share with %s', (_what, share, message) => {
    const r = render({ ...EXAMPLE_HOST, counter_share: share });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(existsSync(join(dir, 'root'))).toBe(false);
  });

  it('refuses a state volume named by a kernel name that can change (/dev/vdb)', () => {
    const r = render({ ...EXAMPLE_HOST, state_volume: { device: '/dev/vdb' } });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/state_volume\.device "\/dev\/vdb"/);
  });
});
