import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderTemplate } from '../../../appliance/src/config/index.js';
import { readTokenFile } from '../../../appliance/src/ops/index.js';
import { REPO } from '../../unit/infra/hcl.js';
import { EXAMPLE_VALUES } from '../../unit/infra/user-data-template.js';
import { IMAGE, output, requireRoot, run } from './tools.js';

/**
 * Secrets made on the replica, never sent in user-data.
 *
 * The API token a fresh replica needs before `nqgw run` can start ([management] token_file):
 * image/files/nqgw-api-token.sh, which nqgw-firstboot.sh runs on the rendered tw.ini. Run here
 * as nqgw-firstboot.service runs it: root with only CAP_CHOWN and CAP_NET_ADMIN (setpriv), on a
 * tw.ini rendered by the appliance's own template code; `nobody` stands in for the nqgw user.
 */

const SCRIPT = join(IMAGE, 'files', 'nqgw-api-token.sh');
const OWNER = 'nobody';
let tmp: string;
let nobodyUid: number;

beforeAll(() => {
  requireRoot('chown to the service user');
  tmp = mkdtempSync(join(tmpdir(), 'nqgw-token-'));
  nobodyUid = Number(run('id', ['-u', OWNER]).stdout.trim());
});
afterAll(() => {
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** A tw.ini from the cloud-production template; tokenFile overrides management_token_file. */
function twIni(name: string, tokenFile?: string): string {
  const dir = join(tmp, name);
  mkdirSync(dir, { recursive: true });
  const values: Record<string, unknown> = { ...EXAMPLE_VALUES };
  if (tokenFile !== undefined) values['management_token_file'] = tokenFile;
  writeFileSync(join(dir, 'tw.ini'), renderTemplate('cloud-production', values));
  return join(dir, 'tw.ini');
}

/** The script with the first-boot unit's capability bounding set (CAP_CHOWN CAP_NET_ADMIN). */
function firstBoot(config: string) {
  return run('setpriv', [
    '--inh-caps=-all',
    '--bounding-set=-all,+chown,+net_admin',
    'bash',
    SCRIPT,
    '--config',
    config,
    '--owner',
    OWNER,
  ]);
}

describe('first boot makes the API token the gateway reads', () => {
  it('creates [management] token_file: random, owner nqgw (here nobody), 0600, accepted by nqgw', () => {
    const dir = join(tmp, 'fresh');
    const config = twIni('fresh', join(dir, 'api.token'));
    const r = firstBoot(config);
    expect(r.status, output(r)).toBe(0);
    expect(r.stdout).toContain(`created ${join(dir, 'api.token')}`);
    const st = statSync(join(dir, 'api.token'));
    expect(st.uid).toBe(nobodyUid);
    expect(st.mode & 0o777).toBe(0o600);
    const token = readFileSync(join(dir, 'api.token'), 'utf8');
    expect(token).toMatch(/^[0-9a-f]{48}\n$/);
    // The appliance's own reader (NQ961 on a bad file) takes it.
    expect(readTokenFile(join(dir, 'api.token'))).toBe(token.trim());
    // Two replicas never share a token.
    const other = twIni('fresh2', join(tmp, 'fresh2', 'api.token'));
    expect(firstBoot(other).status).toBe(0);
    expect(readFileSync(join(tmp, 'fresh2', 'api.token'), 'utf8')).not.toBe(token);
  });

  it('keeps an existing token (a first boot that is retried does not change it)', () => {
    const config = twIni('again', join(tmp, 'again', 'api.token'));
    expect(firstBoot(config).status).toBe(0);
    const before = readFileSync(join(tmp, 'again', 'api.token'), 'utf8');
    const r = firstBoot(config);
    expect(r.status, output(r)).toBe(0);
    expect(r.stdout).toContain('exists, kept');
    expect(readFileSync(join(tmp, 'again', 'api.token'), 'utf8')).toBe(before);
  });

  it('hands a root-owned, world-readable token to the service user as 0600, content unchanged', () => {
    const file = join(tmp, 'handover', 'api.token');
    const config = twIni('handover', file);
    writeFileSync(file, 'operator-made-token-0123456789\n', { mode: 0o644 });
    const r = firstBoot(config);
    expect(r.status, output(r)).toBe(0);
    expect(statSync(file).uid).toBe(nobodyUid);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toBe('operator-made-token-0123456789\n');
  });

  it('resolves a relative token_file against the tw.ini directory', () => {
    const config = twIni('relative', 'api.token');
    const r = firstBoot(config);
    expect(r.status, output(r)).toBe(0);
    expect(statSync(join(tmp, 'relative', 'api.token')).uid).toBe(nobodyUid);
  });

  it('uses the templates default path when tw.ini names none, and that default is /etc/nqgw/api.token', () => {
    const ini = renderTemplate('cloud-production', EXAMPLE_VALUES);
    expect(ini).toMatch(/^token_file = \/etc\/nqgw\/api\.token$/m);
    expect(readFileSync(SCRIPT, 'utf8')).toContain('token_file="${token_file:-/etc/nqgw/api.token}"');
  });

  it('fails, and says so, for an unknown owner or an unreadable tw.ini', () => {
    const config = twIni('nouser', join(tmp, 'nouser', 'api.token'));
    let r = run('bash', [SCRIPT, '--config', config, '--owner', 'no-such-user-nqgw']);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('no user no-such-user-nqgw');
    r = run('bash', [SCRIPT, '--config', join(tmp, 'missing.ini')]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('cannot read the tw.ini');
  });
});

describe('nqgw-firstboot.sh wires it in', () => {
  const firstboot = readFileSync(join(IMAGE, 'files', 'nqgw-firstboot.sh'), 'utf8');

  it('makes the token after tw.ini is in place and before the done marker', () => {
    const call = firstboot.indexOf('"$libexec/nqgw-api-token.sh" --config "$etc/tw.ini" --owner nqgw');
    expect(call).toBeGreaterThan(firstboot.indexOf('mv -f "$etc/tw.ini.new" "$etc/tw.ini"'));
    expect(call).toBeLessThan(firstboot.indexOf('>"$done_marker"'));
  });

  it('40-system.sh installs the script where nqgw-firstboot.sh calls it', () => {
    expect(readFileSync(join(IMAGE, 'scripts', '40-system.sh'), 'utf8')).toContain(
      'install -m 0755 "$s/files/nqgw-api-token.sh" /usr/local/libexec/nqgw/nqgw-api-token.sh',
    );
    expect(firstboot).toContain('libexec=/usr/local/libexec/nqgw');
  });

  it('the first-boot unit may write /etc/nqgw and chown (the sandbox the test reproduces)', () => {
    const unit = readFileSync(join(IMAGE, 'systemd', 'nqgw-firstboot.service'), 'utf8');
    expect(unit).toMatch(/^ReadWritePaths=.*\/etc\/nqgw( |$)/m);
    expect(unit).toMatch(/^CapabilityBoundingSet=CAP_NET_ADMIN CAP_CHOWN$/m);
  });
});

/**
 * The EKey PIN as docs/image.md ("Secrets on the replica") tells operators to write it, run here
 * with the service user `nobody` for `nqgw`, then read back as that user (what the gateway does).
 */
describe('the EKey PIN file written as docs/image.md says is readable by the gateway user', () => {
  const doc = readFileSync(join(REPO, 'docs', 'image.md'), 'utf8');
  const section = doc.slice(doc.indexOf('### Secrets on the replica'));
  const commands = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';

  /** cat FILE as the service user (nobody here, nqgw on the replica). */
  const asServiceUser = (file: string) =>
    run('setpriv', ['--reuid=nobody', '--regid=nogroup', '--clear-groups', 'cat', file]);

  function pinDir(name: string): string {
    const dir = join(tmp, name);
    mkdirSync(dir, { recursive: true });
    // /etc/nqgw is root:nqgw 0750 on the replica: the service user can enter it.
    chmodSync(tmp, 0o755);
    chmodSync(dir, 0o755);
    return dir;
  }

  it('the documented commands: owner nqgw, 0600, the PIN without a newline, read by nqgw', () => {
    expect(commands).toContain('install -o nqgw -g nqgw -m 0600 /dev/null /etc/nqgw/ekey.pin');
    const file = join(pinDir('pin'), 'ekey.pin');
    const script = commands
      .replaceAll('/etc/nqgw/ekey.pin', file)
      .replaceAll('-o nqgw -g nqgw', '-o nobody -g nogroup')
      .replaceAll('sudo ', '');
    const r = spawnSync('bash', ['-euo', 'pipefail', '-c', script], {
      input: '12345678\n',
      encoding: 'utf8',
    });
    expect(r.status, output(r)).toBe(0);
    expect(statSync(file).uid).toBe(nobodyUid);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const read = asServiceUser(file);
    expect(read.status, output(read)).toBe(0);
    expect(read.stdout).toBe('12345678');
  });

  it('the way operations.md used to say (root printf + chmod 600) leaves a file nqgw cannot read', () => {
    const file = join(pinDir('root-pin'), 'ekey.pin');
    const r = run('bash', ['-c', `printf '%s' 12345678 > ${file}; chmod 600 ${file}`]);
    expect(r.status, output(r)).toBe(0);
    const read = asServiceUser(file);
    expect(read.status).not.toBe(0);
    expect(read.stderr).toMatch(/Permission denied/);
  });
});
