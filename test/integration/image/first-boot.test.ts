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
import { EXAMPLE_HOST, EXAMPLE_VALUES } from '../../unit/infra/user-data-template.js';
import { IMAGE, output, REPO, requireRoot, run, tool } from './tools.js';

/**
 * First boot of a replica without a VM: in private mount and network namespaces, /etc,
 * /usr/local, /opt and /var/lib are overlays on this machine's (writes land in scratch layers),
 * and /run is a tmpfs. There the image's own 40-system.sh installs the units and first-boot files,
 * cloud-init's two documents are put in place, and nqgw-firstboot.sh runs for real: the host
 * renderer, nft -f (in the private network namespace), sshd -t, `nqgw config render` of the
 * built appliance, the API token. Only systemctl is a double (no systemd here) that logs its calls.
 * Stand-ins for what 30-appliance.sh does with a bundle: the user nqgw, /etc/nqgw, /opt/node/bin/node
 * (this Node) and /usr/local/bin/nqgw (this checkout's bin/nqgw.js, which needs `npm run build`).
 */
describe('nqgw-firstboot.sh on the example user-data', () => {
  let work: string;
  let r: ReturnType<typeof run>;
  const upper = (rel: string) => join(work, 'up', rel);
  const out = (name: string) => readFileSync(join(work, 'out', name), 'utf8');

  beforeAll(() => {
    requireRoot('mount and network namespaces');
    for (const t of ['unshare', 'nft', 'sshd', 'setpriv']) tool(t);
    if (!existsSync(join(REPO, 'dist/appliance/src/cli/main.js'))) {
      throw new Error('the appliance is not built: run "npm run build" (scripts/test.sh does)');
    }
    work = mkdtempSync(join(tmpdir(), 'nqgw-firstboot-'));
    const stage = join(work, 'stage');
    for (const d of ['systemd', 'udev', 'files', 'templates', 'nftables']) {
      cpSync(join(IMAGE, d), join(stage, d), { recursive: true });
    }
    mkdirSync(join(work, 'stubs'));
    mkdirSync(join(work, 'out'));
    writeFileSync(
      join(work, 'stubs', 'systemctl'),
      `#!/bin/sh\necho "systemctl $*" >> ${join(work, 'out', 'systemctl.log')}\n`,
    );
    chmodSync(join(work, 'stubs', 'systemctl'), 0o755);
    writeFileSync(join(work, 'values.json'), JSON.stringify(EXAMPLE_VALUES));
    writeFileSync(join(work, 'host.json'), JSON.stringify(EXAMPLE_HOST));
    const script = `set -euo pipefail
W=${work}
for d in etc usr/local opt var/lib; do
  mkdir -p "$W/up/$d" "$W/wk/$d"
  mount -t overlay overlay -o "lowerdir=/$d,upperdir=$W/up/$d,workdir=$W/wk/$d" "/$d"
done
mount -t tmpfs tmpfs /run && mkdir -m 0755 /run/sshd
# What 30-appliance.sh makes from the bundle.
getent group nqgw >/dev/null || groupadd --system nqgw
getent passwd nqgw >/dev/null || useradd --system --gid nqgw --home-dir /var/lib/nqgw --no-create-home --shell /usr/sbin/nologin nqgw
install -d -m 0750 -o root -g nqgw /etc/nqgw
install -d -m 0750 -o nqgw -g nqgw /var/lib/nqgw /var/lib/nqgw/state
rm -rf /opt/node && mkdir -p /opt/node/bin && ln -s ${process.execPath} /opt/node/bin/node
printf '#!/bin/sh\\nexec /opt/node/bin/node %s "$@"\\n' ${join(REPO, 'bin', 'nqgw.js')} > /usr/local/bin/nqgw
chmod 0755 /usr/local/bin/nqgw
# The image's own installation step, as packer runs it.
PATH=$W/stubs:$PATH NQGW_STAGE=$W/stage bash ${join(IMAGE, 'scripts', '40-system.sh')}
# cloud-init: write_files, host keys.
install -m 0640 $W/values.json $W/host.json /etc/nqgw/
ssh-keygen -A >/dev/null
rc=0
env -i PATH=$W/stubs:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin /usr/local/libexec/nqgw/nqgw-firstboot.sh \\
  > $W/out/firstboot.log 2>&1 || rc=$?
nft list ruleset > $W/out/ruleset.nft 2>&1 || true
setpriv --reuid=nqgw --regid=nqgw --init-groups cat /etc/nqgw/api.token > $W/out/token-as-nqgw 2>&1 || true
id -u nqgw > $W/out/nqgw.uid
exit $rc
`;
    r = run('unshare', ['--mount', '--net', 'bash', '-c', script], { timeout: 120_000 });
  }, 150_000);

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('runs to the end and marks itself done', () => {
    expect(r.status, `${output(r)}\n--- firstboot.log\n${out('firstboot.log')}`).toBe(0);
    const log = out('firstboot.log');
    for (const step of [
      'nqgw-firstboot: nftables ruleset loaded',
      'nqgw-firstboot: sshd: keys only, from the bastion only',
      'nqgw-firstboot: tw.ini rendered from template cloud-production',
      'nqgw-api-token: created /etc/nqgw/api.token',
    ]) {
      expect(log).toContain(step);
    }
    expect(log).toMatch(/nqgw-firstboot: done$/m);
    expect(existsSync(upper('var/lib/nqgw-firstboot/done'))).toBe(true);
  });

  it('renders tw.ini whose [servers] are the links host.json opens in the firewall', () => {
    const ini = readFileSync(upper('etc/nqgw/tw.ini'), 'utf8');
    for (const [i, l] of EXAMPLE_HOST.main_station_links.entries()) {
      expect(ini).toContain(`server${i + 1} = ${l.address}:${l.port}\nserver${i + 1}_name = ${l.name}`);
    }
    const ruleset = out('ruleset.nft');
    expect(ruleset).toContain('table inet nqgw');
    for (const l of EXAMPLE_HOST.main_station_links) expect(ruleset).toContain(`${l.address} . ${l.port}`);
  });

  it('makes the API token: owner nqgw, 0600, readable by the gateway user through /etc/nqgw', () => {
    const file = upper('etc/nqgw/api.token');
    const uid = Number(out('nqgw.uid').trim());
    expect(statSync(file).uid).toBe(uid);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const token = readFileSync(file, 'utf8');
    expect(token).toMatch(/^[0-9a-f]{48}\n$/);
    expect(out('token-as-nqgw')).toBe(token);
    expect(readFileSync(upper('etc/nqgw/tw.ini'), 'utf8')).toMatch(/^token_file = \/etc\/nqgw\/api\.token$/m);
  });

  it('40-system.sh enables the units, chrony-wait included (time-sync.target means a synced clock)', () => {
    expect(out('systemctl.log').split('\n')[0]).toBe(
      'systemctl enable --quiet nqgw-firstboot.service nqgw-usbip.service nftables.service chrony.service chrony-wait.service ssh.service nqgw-daily.timer',
    );
  });

  it('reloads ssh and restarts chrony through systemd', () => {
    const calls = out('systemctl.log');
    expect(calls).toContain('systemctl try-reload-or-restart ssh.service');
    expect(calls).toContain('systemctl try-restart chrony.service');
  });
});
