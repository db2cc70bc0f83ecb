import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { TwConfig } from '../../../appliance/src/config/index.js';
import {
  checkShareMount,
  mountOf,
  mountUnitName,
  parseMountinfo,
} from '../../../appliance/src/cutover/share-check.js';

/** mountinfo lines as a Debian 12 replica shows them (proc(5) format). */
const ROOT = '22 1 254:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw,errors=remount-ro';
const STATE = '40 22 254:16 / /var/lib/nqgw rw,nosuid,nodev,relatime shared:30 - ext4 /dev/vdb rw';
const CIFS =
  '81 22 0:52 / /srv/counter rw,nosuid,nodev,noexec,relatime shared:45 - cifs //10.0.2.2/counter rw,vers=3.1.1,cache=none,actimeo=0';
const NFS =
  '82 22 0:53 / /srv/counter rw,relatime shared:46 - nfs4 10.80.4.20:/export/counter rw,vers=4.2,hard';
const LOCAL = '83 22 7:0 / /srv/counter rw,relatime shared:47 - ext4 /dev/loop0 rw';

function config(
  share: string | null,
  orders = '/srv/counter/NQWT.DBF',
  returns = '/srv/counter/NQHB.DBF',
): TwConfig {
  return {
    files: { orders, returns, stateDir: '/var/lib/nqgw/state' },
    extra: share === null ? {} : { share: { mount_point: share } },
  } as unknown as TwConfig;
}

const mounts =
  (...lines: string[]) =>
  () =>
    lines.join('\n') + '\n';

describe('cutover: the counter share check (mountinfo)', () => {
  it('parses mount point, type and source, unescaping \\040 and friends', () => {
    const entries = parseMountinfo(
      [ROOT, CIFS, '90 22 0:60 / /mnt/with\\040space rw - cifs //h/a\\134b rw', 'garbage line'].join('\n'),
    );
    expect(entries).toEqual([
      { mountPoint: '/', fsType: 'ext4', source: '/dev/vda1' },
      { mountPoint: '/srv/counter', fsType: 'cifs', source: '//10.0.2.2/counter' },
      { mountPoint: '/mnt/with space', fsType: 'cifs', source: '//h/a\\b' },
    ]);
  });

  it('finds the mount holding a directory: the longest prefix, the later of two on one point', () => {
    const entries = parseMountinfo([ROOT, STATE, LOCAL, CIFS].join('\n'));
    expect(mountOf(entries, '/srv/counter')?.fsType).toBe('cifs');
    expect(mountOf(entries, '/srv/counter/sub')?.fsType).toBe('cifs');
    expect(mountOf(entries, '/srv/counterfeit')?.mountPoint).toBe('/');
    expect(mountOf(entries, '/var/lib/nqgw/state')?.mountPoint).toBe('/var/lib/nqgw');
  });

  it('reads this machine\'s own /proc/self/mountinfo: "/" is there', () => {
    const entries = parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8'));
    expect(entries.some((e) => e.mountPoint === '/')).toBe(true);
    expect(mountOf(entries, '/proc/self')?.fsType).toBe('proc');
  });

  it('passes the DBF files on a mounted CIFS or NFS share', () => {
    expect(checkShareMount(config('/srv/counter'), mounts(ROOT, STATE, CIFS))).toBeNull();
    expect(checkShareMount(config('/srv/counter/'), mounts(ROOT, NFS))).toBeNull();
  });

  it("refuses when the share is not mounted: the directory is the replica's own disk (NQ750)", () => {
    const r = checkShareMount(config('/srv/counter'), mounts(ROOT, STATE));
    expect(r?.verdict).toBe('FAIL');
    expect(r?.detail).toMatch(
      /^NQ750 the counter's share is not mounted at \/srv\/counter: \/srv\/counter is on \/ \(ext4\)/,
    );
    expect(r?.hint).toContain('sudo systemctl start srv-counter.mount');
  });

  it('refuses a local filesystem mounted where the share belongs (NQ751)', () => {
    const r = checkShareMount(config('/srv/counter'), mounts(ROOT, LOCAL));
    expect(r?.verdict).toBe('FAIL');
    expect(r?.detail).toMatch(/^NQ751 \/srv\/counter is a ext4 filesystem \(\/dev\/loop0\)/);
  });

  it('refuses when only the returns file is meant on the share and it is not mounted', () => {
    const r = checkShareMount(config('/srv/counter', '/var/lib/nqgw/NQWT.DBF'), mounts(ROOT));
    expect(r?.detail).toMatch(/^NQ750/);
  });

  it("has nothing to check without [share] mount_point, or with the files elsewhere (a drill's scratch)", () => {
    const never = () => {
      throw new Error('mountinfo must not be read');
    };
    expect(checkShareMount(config(null), never)).toBeNull();
    expect(checkShareMount(config(''), never)).toBeNull();
    expect(
      checkShareMount(config('/srv/counter', '/tmp/drill/NQWT.DBF', '/tmp/drill/NQHB.DBF'), never),
    ).toBeNull();
  });

  it.each(['/srv/counter', '/mnt/dbf-share', '/srv/a.b/c_d', '/srv/x y'])(
    'names the mount unit of %s as systemd-escape does',
    (mp) => {
      const r = spawnSync('systemd-escape', ['--path', '--suffix=mount', mp], { encoding: 'utf8' });
      if (r.error) return; // no systemd-escape here; the fixed cases below still run
      expect(mountUnitName(mp)).toBe(r.stdout.trim());
    },
  );

  it('names the mount units the renderer writes', () => {
    expect(mountUnitName('/srv/counter')).toBe('srv-counter.mount');
    expect(mountUnitName('/var/lib/nqgw')).toBe('var-lib-nqgw.mount');
    expect(mountUnitName('/mnt/dbf-share')).toBe('mnt-dbf\\x2dshare.mount');
  });
});
