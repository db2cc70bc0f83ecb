import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { type Hcl, parseFile, REPO } from './hcl.js';

const IMAGE = join(REPO, 'image');
const read = (rel: string) => readFileSync(join(IMAGE, rel), 'utf8');

/** `Key=value` lines of one section of a unit file (repeated keys kept in order). */
function section(unit: string, name: string): Array<[string, string]> {
  const text = read(join('systemd', unit));
  const body = text.split(/^\[/m).find((s) => s.startsWith(`${name}]`)) ?? '';
  return body
    .split('\n')
    .slice(1)
    .filter((l) => /^[A-Za-z]+=/.test(l))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]);
}
const values = (unit: string, key: string) =>
  section(unit, 'Service')
    .filter(([k]) => k === key)
    .map(([, v]) => v);

describe('packer template (parsed with hcl2json)', () => {
  let pkr: Hcl;
  beforeAll(async () => {
    pkr = await parseFile(join(IMAGE, 'nqgw.pkr.hcl'));
  });

  it('has an openstack source for 深证云 and a local qemu source, both in the one build', () => {
    expect(Object.keys(pkr.source)).toEqual(expect.arrayContaining(['openstack', 'qemu']));
    expect(Object.keys(pkr.source.openstack)).toEqual(['szcloud']);
    expect(Object.keys(pkr.source.qemu)).toEqual(['local']);
    expect(pkr.build[0].sources).toEqual(['source.openstack.szcloud', 'source.qemu.local']);
  });

  it('keeps required_plugins out of the template set', () => {
    expect(pkr.packer).toBeUndefined();
    const pkrFiles = readdirSync(IMAGE).filter((n) => n.endsWith('.pkr.hcl'));
    expect(pkrFiles).toEqual(['nqgw.pkr.hcl']);
    expect(read('plugins.pkr.hcl.disabled')).toMatch(/required_plugins \{/);
  });

  it('runs every provisioning script, in order, and uploads the bundle and Node from the build host', () => {
    // hcl2json groups provisioners by type: { file: [...], shell: [...] }.
    const provisioners = pkr.build[0].provisioner as Record<string, Hcl[]>;
    const shell = (provisioners.shell ?? []).find((s) => s.scripts);
    const onDisk = readdirSync(join(IMAGE, 'scripts'))
      .filter((n) => n.endsWith('.sh'))
      .sort();
    expect(shell?.scripts).toEqual(onDisk.map((n) => `\${path.root}/scripts/${n}`));
    const uploads = (provisioners.file ?? []).map((f) => f.destination as string);
    expect(uploads).toEqual(
      expect.arrayContaining(['/tmp/nqgw-image/nqgw-bundle.tar.gz', '/tmp/nqgw-image/node.tar.xz']),
    );
    for (const v of ['appliance_bundle', 'node_dist']) expect(pkr.variable[v][0].default).toBeUndefined();
  });
});

describe('nqgw.service', () => {
  const svc = (key: string) => values('nqgw.service', key);

  it('runs nqgw as the non-root user with the rendered tw.ini and restarts on failure', () => {
    expect(svc('User')).toEqual(['nqgw']);
    expect(svc('ExecStart')).toEqual(['/usr/local/bin/nqgw run --config /etc/nqgw/tw.ini']);
    expect(svc('Restart')).toEqual(['on-failure']);
    expect(svc('RestartSec')).toHaveLength(1);
    // No watchdog until `nqgw run` sends WATCHDOG=1 (documented in the unit).
    expect(svc('WatchdogSec')).toEqual([]);
    expect(read('systemd/nqgw.service')).toMatch(/WatchdogSec=30s/);
  });

  it('is sandboxed as the brief asks', () => {
    expect(svc('NoNewPrivileges')).toEqual(['yes']);
    expect(svc('ProtectSystem')).toEqual(['strict']);
    expect(svc('ProtectHome')).toEqual(['yes']);
    expect(svc('PrivateTmp')).toEqual(['yes']);
    expect(svc('CapabilityBoundingSet')).toEqual(['']);
    expect(svc('RestrictAddressFamilies')).toEqual(['AF_INET AF_INET6 AF_UNIX AF_NETLINK']);
    expect(svc('SystemCallFilter')[0]).toBe('@system-service');
    expect(svc('ReadWritePaths').join(' ').split(' ')).toEqual(
      expect.arrayContaining(['/var/lib/nqgw', '/var/log/nqgw']),
    );
    expect(svc('DeviceAllow')).toEqual(['char-usb_device rw', '/dev/bus/usb rw']);
    expect(svc('DevicePolicy')).toEqual(['closed']);
  });
});

describe('first boot, usbip, udev', () => {
  it('nqgw-firstboot runs once, after cloud-init, before the gateway', () => {
    const unit = section('nqgw-firstboot.service', 'Unit');
    const get = (k: string) => unit.filter(([key]) => key === k).map(([, v]) => v);
    expect(get('After').join(' ')).toContain('cloud-init.service');
    expect(get('Before').join(' ')).toContain('nqgw.service');
    expect(get('ConditionPathExists')).toEqual([
      '/etc/nqgw/values.json',
      '/etc/nqgw/host.json',
      '!/var/lib/nqgw-firstboot/done',
    ]);
    const script = read('files/nqgw-firstboot.sh');
    expect(script).toContain('nqgw config render --template "${NQGW_TW_TEMPLATE:-cloud-production}"');
    expect(script).toContain('--values "$etc/values.json" --out "$etc/tw.ini.new"');
    expect(script).toMatch(/date .*>"\$done_marker"\n/);
  });

  it('nqgw-usbip takes its server from /etc/nqgw/usbip.env', () => {
    expect(values('nqgw-usbip.service', 'EnvironmentFile')).toEqual(['/etc/nqgw/usbip.env']);
    expect(section('nqgw-usbip.service', 'Unit')).toContainEqual([
      'ConditionPathExists',
      '/etc/nqgw/usbip.env',
    ]);
    // Through the TLS tunnel's local end only (nqgw-usbip-tunnel.service), never the USB host.
    expect(read('files/nqgw-usbip.sh')).toContain('usbip attach --remote="$TUNNEL" --busid="$USBIP_BUSID"');
    expect(read('files/nqgw-usbip.sh')).toMatch(/^TUNNEL=127\.0\.0\.1$/m);
  });

  it('udev gives group nqgw the Feitian (096e) and G+D (1059) tokens', () => {
    const rules = read('udev/70-nqgw-ekey.rules')
      .split('\n')
      .filter((l) => l.startsWith('ATTR{idVendor}'));
    expect(rules).toHaveLength(2);
    expect(rules[0]).toMatch(/^ATTR\{idVendor\}=="096e", MODE="0660", GROUP="nqgw"/);
    expect(rules[1]).toMatch(/^ATTR\{idVendor\}=="1059", MODE="0660", GROUP="nqgw"/);
  });
});
