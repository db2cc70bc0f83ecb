import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CIFS_SHARE, STATE_VOLUME } from '../../unit/infra/mount-fixtures.js';
import { EXAMPLE_HOST, EXAMPLE_VALUES } from '../../unit/infra/user-data-template.js';
import { IMAGE, output, REPO, requireRoot, run, tool } from './tools.js';

/**
 * First boot of a replica with the counter's share and a state volume, without a VM: the same
 * private mount and network namespaces as first-boot.test.ts (overlays on /etc, /usr/local, /opt,
 * /var/lib), the image's 40-system.sh, and nqgw-firstboot.sh for real. systemctl is a double that
 * logs its calls and says the state volume's device is there (no systemd here), so what is checked
 * is what first boot asks of systemd, in which order, and what it leaves on disk.
 */
describe('nqgw-firstboot.sh with counter_share and state_volume', () => {
  let work: string;
  let r: ReturnType<typeof run>;
  const upper = (rel: string) => join(work, 'up', rel);
  const out = (name: string) => readFileSync(join(work, 'out', name), 'utf8');
  const values = {
    ...EXAMPLE_VALUES,
    orders: '/srv/counter/NQWT.DBF',
    returns: '/srv/counter/NQHB.DBF',
    share_mount_point: '/srv/counter',
  };

  beforeAll(() => {
    requireRoot('mount and network namespaces');
    for (const t of ['unshare', 'nft', 'sshd']) tool(t);
    if (!existsSync(join(REPO, 'dist/appliance/src/cli/main.js'))) {
      throw new Error('the appliance is not built: run "npm run build" (scripts/test.sh does)');
    }
    work = mkdtempSync(join(tmpdir(), 'nqgw-firstboot-mounts-'));
    const stage = join(work, 'stage');
    for (const d of ['systemd', 'udev', 'files', 'templates', 'nftables']) {
      cpSync(join(IMAGE, d), join(stage, d), { recursive: true });
    }
    mkdirSync(join(work, 'stubs'));
    mkdirSync(join(work, 'out'));
    writeFileSync(
      join(work, 'stubs', 'systemctl'),
      `#!/bin/sh\necho "systemctl $*" >> ${join(work, 'out', 'systemctl.log')}\n` +
        `case "$*" in "show -p ActiveState --value "*.device) echo active ;; esac\n`,
    );
    chmodSync(join(work, 'stubs', 'systemctl'), 0o755);
    writeFileSync(join(work, 'values.json'), JSON.stringify(values));
    writeFileSync(
      join(work, 'host.json'),
      JSON.stringify({ ...EXAMPLE_HOST, counter_share: CIFS_SHARE, state_volume: STATE_VOLUME }),
    );
    const script = `set -euo pipefail
W=${work}
for d in etc usr/local opt var/lib; do
  mkdir -p "$W/up/$d" "$W/wk/$d"
  mount -t overlay overlay -o "lowerdir=/$d,upperdir=$W/up/$d,workdir=$W/wk/$d" "/$d"
done
mount -t tmpfs tmpfs /run && mkdir -m 0755 /run/sshd
getent group nqgw >/dev/null || groupadd --system nqgw
getent passwd nqgw >/dev/null || useradd --system --gid nqgw --home-dir /var/lib/nqgw --no-create-home --shell /usr/sbin/nologin nqgw
install -d -m 0750 -o root -g nqgw /etc/nqgw
install -d -m 0750 -o nqgw -g nqgw /var/lib/nqgw /var/lib/nqgw/state
rm -rf /opt/node && mkdir -p /opt/node/bin && ln -s ${process.execPath} /opt/node/bin/node
printf '#!/bin/sh\\nexec /opt/node/bin/node %s "$@"\\n' ${join(REPO, 'bin', 'nqgw.js')} > /usr/local/bin/nqgw
chmod 0755 /usr/local/bin/nqgw
PATH=$W/stubs:$PATH NQGW_STAGE=$W/stage bash ${join(IMAGE, 'scripts', '40-system.sh')}
install -m 0640 $W/values.json $W/host.json /etc/nqgw/
ssh-keygen -A >/dev/null
: > $W/out/systemctl.log
rc=0
env -i PATH=$W/stubs:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin /usr/local/libexec/nqgw/nqgw-firstboot.sh \\
  > $W/out/firstboot.log 2>&1 || rc=$?
nft list ruleset > $W/out/ruleset.nft 2>&1 || true
stat -c '%U:%G %a' /etc/nqgw/secrets > $W/out/secrets.stat 2>&1 || true
exit $rc
`;
    r = run('unshare', ['--mount', '--net', 'bash', '-c', script], { timeout: 120_000 });
  }, 150_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('runs to the end', () => {
    expect(r.status, `${output(r)}\n--- firstboot.log\n${out('firstboot.log')}`).toBe(0);
    expect(out('firstboot.log')).toMatch(/nqgw-firstboot: done$/m);
  });

  it('asks systemd, after the firewall is up: reload, enable, wait for the volume, mount it, then the share without waiting', () => {
    const calls = out('systemctl.log')
      .split('\n')
      .filter((l) => !/try-(reload-or-)?restart/.test(l) && l !== '');
    expect(calls).toEqual([
      'systemctl daemon-reload',
      'systemctl enable srv-counter.mount nqgw-counter-share.path var-lib-nqgw.mount',
      'systemctl show -p ActiveState --value dev-disk-by\\x2did-virtio\\x2d0f1e2d3c\\x2d4b5a\\x2d6978\\x2d8.device',
      'systemctl start var-lib-nqgw.mount',
      'systemctl start --no-block nqgw-counter-share.path',
    ]);
    const log = out('firstboot.log');
    expect(log.indexOf('nftables ruleset loaded')).toBeLessThan(log.indexOf('started var-lib-nqgw.mount'));
  });

  it('leaves the units and drop-ins in /etc/systemd/system', () => {
    for (const f of [
      'srv-counter.mount',
      'nqgw-counter-share.path',
      'var-lib-nqgw.mount',
      'nqgw-state-volume.service',
      'nqgw.service.d/50-counter-share.conf',
      'nqgw.service.d/50-state-volume.conf',
    ]) {
      expect(existsSync(upper(`etc/systemd/system/${f}`)), f).toBe(true);
    }
  });

  it('opens SMB to the share in the loaded ruleset, and makes /etc/nqgw/secrets root:nqgw 0750', () => {
    expect(out('ruleset.nft')).toMatch(/ip daddr 10\.0\.2\.2 tcp dport 445 accept/);
    expect(out('secrets.stat').trim()).toBe('root:nqgw 750');
    expect(statSync(upper('etc/nqgw/secrets')).isDirectory()).toBe(true);
  });

  it('renders tw.ini with the DBF files in the share and [share] mount_point', () => {
    const ini = readFileSync(upper('etc/nqgw/tw.ini'), 'utf8');
    expect(ini).toMatch(/^orders = \/srv\/counter\/NQWT\.DBF$/m);
    expect(ini).toMatch(/^returns = \/srv\/counter\/NQHB\.DBF$/m);
    expect(ini).toMatch(/^mount_point = \/srv\/counter$/m);
  });
});
