import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { REPO } from './hcl.js';
import { EXAMPLE_HOST } from './user-data-template.js';

const RENDERER = join(REPO, 'image', 'files', 'nqgw-render-host.mjs');
const TEMPLATES = join(REPO, 'image', 'templates');

describe('nqgw-render-host (first-boot host settings)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'nqgw-render-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function render(host: unknown) {
    writeFileSync(join(dir, 'host.json'), JSON.stringify(host));
    return spawnSync(
      process.execPath,
      [RENDERER, '--host', join(dir, 'host.json'), '--templates', TEMPLATES, '--root', join(dir, 'root')],
      {
        encoding: 'utf8',
      },
    );
  }
  const read = (rel: string) => readFileSync(join(dir, 'root', rel), 'utf8');

  it('renders chrony, sshd and nftables for the example replica', () => {
    const r = render(EXAMPLE_HOST);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const chrony = read('etc/chrony/chrony.conf');
    expect(chrony).toContain('server 10.255.0.1 iburst');
    expect(chrony).toContain('server 10.255.0.2 iburst');
    expect(chrony).not.toMatch(/^pool /m);
    const sshd = read('etc/ssh/sshd_config.d/50-nqgw.conf');
    expect(sshd).toMatch(/^PasswordAuthentication no$/m);
    expect(sshd).toMatch(/^PermitRootLogin no$/m);
    expect(sshd).toMatch(/^AllowUsers debian@10\.80\.0\.10\/32$/m);
    expect(sshd).toMatch(/^Match Address \*,!10\.80\.0\.10\/32$/m);
    const nft = read('etc/nftables.d/nqgw.nft');
    expect(nft).toContain(
      'define main_station_links = { 172.50.101.30 . 7043, 172.60.101.30 . 7043, 172.50.102.30 . 7043, 172.70.101.30 . 7043 }',
    );
    expect(nft).toContain('ip saddr $bastion tcp dport 22 accept');
    expect(nft).toContain('ip saddr $management_net tcp dport $management_port accept');
    expect(nft).toContain('ip daddr 10.80.3.5 tcp dport 3241 accept');
    expect(nft).not.toContain('3240');
    expect(nft).not.toMatch(/\{\{|0\.0\.0\.0\/0/);
    expect(read('etc/nqgw/usbip.env')).toContain(
      'USBIP_SERVER=10.80.3.5\nUSBIP_TUNNEL_PORT=3241\nUSBIP_BUSID=1-1\n',
    );
    expect(read('etc/nqgw/usbip-tunnel.conf')).toMatch(/^connect = 10\.80\.3\.5:3241$/m);
    expect(read('etc/nqgw/firstboot.env')).toBe('NQGW_TW_TEMPLATE=cloud-production\n');
  });

  it('writes no usbip.env and no usbip rule when the replica has no usbip server', () => {
    const { usbip: _omit, ...host } = EXAMPLE_HOST;
    expect(render(host).status).toBe(0);
    expect(existsSync(join(dir, 'root', 'etc/nqgw/usbip.env'))).toBe(false);
    expect(read('etc/nftables.d/nqgw.nft')).not.toContain('3240');
  });

  it.each([
    ['bastion_cidr', '0.0.0.0/0', /bastion_cidr "0\.0\.0\.0\/0"/],
    ['management_cidr', '10.80.2.0/33', /management_cidr/],
    ['time_servers', [], /time_servers: a non-empty list/],
    ['ssh_users', ['root'], /ssh_users/],
    ['main_station_links', [{ name: 'x', address: 'mainstation', port: 7043 }], /main_station_links/],
    ['tw_template', 'nowhere', /tw_template "nowhere"/],
  ])('refuses %s = %j with a message naming the file and the key', (key, value, message) => {
    const r = render({ ...EXAMPLE_HOST, [key]: value });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain(join(dir, 'host.json'));
    expect(existsSync(join(dir, 'root'))).toBe(false);
  });

  it('passes a syntax check as a Node module (no dependencies)', () => {
    execFileSync(process.execPath, ['--check', RENDERER]);
  });
});
