import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_HOST } from '../../unit/infra/user-data-template.js';
import { IMAGE, output, requireRoot, run, tool } from './tools.js';

/** The first-boot renderings checked by the programs that will read them. */
describe('first-boot host settings, checked by nft, sshd and chronyd', () => {
  let tmp: string;
  let out: string;
  beforeAll(() => {
    tmp = mkdtempSync(join(tmpdir(), 'nqgw-host-'));
    out = join(tmp, 'root');
    writeFileSync(join(tmp, 'host.json'), JSON.stringify(EXAMPLE_HOST));
    const r = run(process.execPath, [
      join(IMAGE, 'files', 'nqgw-render-host.mjs'),
      '--host',
      join(tmp, 'host.json'),
      '--templates',
      join(IMAGE, 'templates'),
      '--root',
      out,
    ]);
    if (r.status !== 0) throw new Error(output(r));
  });
  afterAll(() => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('nft -c accepts the image default and the rendered ruleset, and rejects a broken one', () => {
    const nft = tool('nft');
    requireRoot('nft -c');
    for (const file of [join(IMAGE, 'nftables', 'nqgw-default.nft'), join(out, 'etc/nftables.d/nqgw.nft')]) {
      const r = run(nft, ['-c', '-f', file]);
      expect(r.status, `${file}\n${output(r)}`).toBe(0);
    }
    // /etc/nftables.conf includes /etc/nftables.d/nqgw.nft: check the wrapper against the rendering.
    const wrapper = readFileSync(join(IMAGE, 'nftables', 'nftables.conf'), 'utf8').replace(
      '/etc/nftables.d/nqgw.nft',
      join(out, 'etc/nftables.d/nqgw.nft'),
    );
    writeFileSync(join(tmp, 'nftables.conf'), wrapper);
    expect(run(nft, ['-c', '-f', join(tmp, 'nftables.conf')]).status).toBe(0);
    const broken = readFileSync(join(out, 'etc/nftables.d/nqgw.nft'), 'utf8').replace(
      'tcp dport 22 accept',
      'tcp dport 22 acept',
    );
    writeFileSync(join(tmp, 'broken.nft'), broken);
    expect(run(nft, ['-c', '-f', join(tmp, 'broken.nft')]).status).not.toBe(0);
  });

  it('the rendered ruleset drops by default and opens only the listed flows', () => {
    const text = readFileSync(join(out, 'etc/nftables.d/nqgw.nft'), 'utf8');
    expect(text.match(/policy drop;/g)).toHaveLength(3);
    const accepts = text
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.endsWith(' accept') && !l.startsWith('#'));
    expect(accepts.filter((l) => /dport/.test(l) && !/^(udp sport)/.test(l))).toEqual([
      'ip saddr $bastion tcp dport 22 accept',
      'ip saddr $management_net tcp dport $management_port accept',
      'ip saddr $management_net tcp dport 9100 accept',
      'ip daddr . tcp dport $main_station_links accept',
      'ip daddr $time_servers udp dport 123 accept',
      'ip daddr $object_storage tcp dport 443 accept',
      'ip daddr $resolvers udp dport 53 accept',
      'ip daddr $resolvers tcp dport 53 accept',
      'ip daddr 169.254.169.254 tcp dport 80 accept',
      'ip daddr 10.80.3.5 tcp dport 3241 accept',
    ]);
  });

  it('chronyd -p parses the rendered chrony.conf', () => {
    const r = run(tool('chronyd'), ['-p', '-f', join(out, 'etc/chrony/chrony.conf')]);
    expect(r.status, output(r)).toBe(0);
    expect(r.stdout).toContain('server 10.255.0.1 iburst');
  });

  it('sshd -t accepts the drop-in; sshd -T shows keys only, no root, and nobody but the bastion', () => {
    const sshd = tool('sshd');
    const unshare = tool('unshare');
    requireRoot('sshd -t in a private mount namespace');
    run(tool('ssh-keygen'), ['-q', '-t', 'ed25519', '-N', '', '-f', join(tmp, 'hostkey')]);
    writeFileSync(
      join(tmp, 'sshd_config'),
      `HostKey ${join(tmp, 'hostkey')}\nInclude ${join(out, 'etc/ssh/sshd_config.d')}/*.conf\nUsePAM yes\n`,
    );
    // sshd insists on /run/sshd; give it one in a private mount namespace, not on this machine.
    const inNs = (args: string) =>
      run(unshare, [
        '--mount',
        'sh',
        '-c',
        `mount -t tmpfs tmpfs /run && mkdir -m 0755 /run/sshd && ${sshd} ${args}`,
      ]);
    const t = inNs(`-t -f ${join(tmp, 'sshd_config')}`);
    expect(t.status, output(t)).toBe(0);
    const fromBastion = inNs(`-T -f ${join(tmp, 'sshd_config')} -C user=debian,host=bastion,addr=10.80.0.10`);
    expect(fromBastion.stdout).toMatch(/^passwordauthentication no$/m);
    expect(fromBastion.stdout).toMatch(/^permitrootlogin no$/m);
    expect(fromBastion.stdout).toMatch(/^authenticationmethods publickey$/m);
    expect(fromBastion.stdout).not.toMatch(/^denyusers/m);
    const elsewhere = inNs(`-T -f ${join(tmp, 'sshd_config')} -C user=debian,host=other,addr=10.80.9.9`);
    expect(elsewhere.stdout).toMatch(/^denyusers \*$/m);
  });
});
