import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runConfigCheck } from '../../../appliance/src/cli/config.js';
import { checkSecretSources, renderTemplate, type TwConfig } from '../../../appliance/src/config/index.js';

/**
 * `nqgw config check` and the secrets tw.ini names: the EKey PIN (pin_file, or pin_credential and
 * the LoadCredential= behind it) and the object-storage key files. Real files with real modes and
 * owners in a temp dir.
 */
const IS_ROOT = typeof process.getuid === 'function' && process.getuid() === 0;

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'nqgw-secrets-'));
  mkdirSync(join(dir, 'state'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function cfg(
  mode: 'file' | 'ekey',
  ekey: Record<string, string> = {},
  logs: Record<string, string> = {},
): TwConfig {
  return {
    source: join(dir, 'tw.ini'),
    files: { orders: join(dir, 'NQWT.DBF'), returns: join(dir, 'NQHB.DBF'), stateDir: join(dir, 'state') },
    tls: { mode },
    extra: { ekey, logs },
  } as unknown as TwConfig;
}
function secret(name: string, text: string, mode = 0o600): string {
  const file = join(dir, name);
  writeFileSync(file, text, { mode });
  chmodSync(file, mode);
  return file;
}
const messages = (
  c: TwConfig,
  opts: Parameters<typeof checkSecretSources>[1] = { env: {}, dropInDir: join(dir, 'nqgw.service.d') },
) => checkSecretSources(c, opts).map((p) => `[${p.section}] ${p.key ?? '-'}: ${p.message}`);

describe('config check: the secrets tw.ini names', () => {
  it('has nothing to say without EKey mode or key files', () => {
    expect(messages(cfg('file'))).toEqual([]);
  });

  it('EKey mode with no PIN source at all', () => {
    expect(messages(cfg('ekey'))).toEqual([
      '[ekey] -: [tls] mode = ekey, but [ekey] gives neither pin_file nor pin_credential',
    ]);
  });

  it('accepts an owner-only PIN file of the gateway user', () => {
    expect(messages(cfg('ekey', { pin_file: secret('ekey.pin', '123456') }))).toEqual([]);
  });

  it.each([
    ['missing', () => join(dir, 'none.pin'), /EKey PIN file .*none\.pin does not exist/],
    ['readable by the group', () => secret('g.pin', '123456', 0o640), /is readable by others \(mode 640\)/],
    ['empty', () => secret('e.pin', ''), /is empty/],
    ['ending in a newline', () => secret('n.pin', '123456\n'), /contains a line break/],
  ])('refuses a PIN file that is %s', (_what, make, message) => {
    const [m] = messages(cfg('ekey', { pin_file: make() }));
    expect(m).toMatch(/^\[ekey\] pin_file: /);
    expect(m).toMatch(message);
  });

  it.skipIf(!IS_ROOT)(
    'refuses a PIN file written by root when the gateway runs as another user (owner of state_dir)',
    () => {
      chownSync(join(dir, 'state'), 4242, 4242);
      const pin = secret('root.pin', '123456');
      expect(messages(cfg('ekey', { pin_file: pin }))).toEqual([
        `[ekey] pin_file: EKey PIN file ${pin} belongs to uid 0, but the gateway runs as uid 4242 (the owner of state_dir) and cannot read an owner-only file of another user`,
      ]);
      chownSync(pin, 4242, 4242);
      expect(messages(cfg('ekey', { pin_file: pin }))).toEqual([]);
    },
  );

  it('refuses a PIN written into tw.ini', () => {
    expect(messages(cfg('ekey', { pin: '123456' }))).toEqual([
      '[ekey] pin: the PIN must never be written in tw.ini',
    ]);
  });

  it('pin_credential under systemd: the file in $CREDENTIALS_DIRECTORY', () => {
    mkdirSync(join(dir, 'creds'));
    const c = cfg('ekey', { pin_credential: 'ekey-pin' });
    const env = { CREDENTIALS_DIRECTORY: join(dir, 'creds') };
    expect(checkSecretSources(c, { env })[0]?.message).toMatch(
      /EKey PIN credential .*ekey-pin does not exist/,
    );
    writeFileSync(join(dir, 'creds', 'ekey-pin'), '123456', { mode: 0o400 });
    expect(checkSecretSources(c, { env })).toEqual([]);
  });

  it("pin_credential from a shell: the LoadCredential= source named in nqgw.service's drop-ins", () => {
    const dropIns = join(dir, 'nqgw.service.d');
    const c = cfg('ekey', { pin_credential: 'ekey-pin', pin_file: '/etc/nqgw/ekey.pin' });
    expect(messages(c)[0]).toMatch(
      /no drop-in of nqgw\.service loads it \(no LoadCredential=ekey-pin:PATH in /,
    );
    mkdirSync(dropIns);
    writeFileSync(
      join(dropIns, 'pin.conf'),
      `[Service]\nLoadCredential=ekey-pin:${join(dir, 'root-only.pin')}\n`,
    );
    expect(messages(c)[0]).toMatch(
      /credential source \(LoadCredential=ekey-pin\) .*root-only\.pin does not exist/,
    );
    secret('root-only.pin', '123456');
    expect(messages(c)).toEqual([]);
  });

  it('object-storage key files: owner-only, present', () => {
    const id = secret('s3-id', 'AKID');
    const key = secret('s3-key', 'SECRET', 0o644);
    expect(messages(cfg('file', {}, { access_key_id_file: id, secret_access_key_file: key }))).toEqual([
      `[logs] secret_access_key_file: object-storage key file ${key} is readable by others (mode 644)`,
    ]);
  });
});

describe('nqgw config check on a rendered tw.ini in EKey mode', () => {
  function write(values: Record<string, unknown>): string {
    for (const f of ['ca.pem', 'station.crt', 'station.key']) writeFileSync(join(dir, f), 'x');
    const file = join(dir, 'tw.ini');
    writeFileSync(file, renderTemplate('lab', { tls_mode: 'ekey', ...values }));
    return file;
  }
  const io = () => {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) } };
  };

  it('fails (exit 2) while the PIN is not placed, passes once it is', () => {
    const file = write({});
    writeFileSync(file, `${readFileSync(file, 'utf8')}\n[ekey]\npin_file = ekey.pin\n`);
    const first = io();
    expect(runConfigCheck(file, first.io)).toBe(2);
    expect(first.err[0]).toMatch(/^NOT OK: .*tw\.ini \(1 problem\)$/);
    expect(first.err.join('\n')).toMatch(
      /\[ekey\] pin_file: EKey PIN file .*ekey\.pin does not exist — place it through the bastion/,
    );
    secret('ekey.pin', '123456');
    const second = io();
    expect(runConfigCheck(file, second.io), second.err.join('\n')).toBe(0);
    expect(second.out[0]).toMatch(/^OK: /);
  });
});
