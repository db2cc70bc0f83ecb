import { execFileSync } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Pkcs11Module } from '../../../appliance/src/ekey/index.js';
import { runEkeyCsr } from '../../../appliance/src/cli/ekey.js';
import { runNqgw } from '../../helpers/process.js';
import { certificate, rsaKey, type KeyPair } from './pki.js';
import { SOFTHSM_MODULE, ekeyIni, initToken, softhsmMissing, softhsmStore, writeObject } from './softhsm.js';

const missing = softhsmMissing();
const STATION = 'W888888T';
const PIN = '123456';

let dir: string;
let conf: string;
let pinPath: string;
let stationKey: KeyPair;
let module: Pkcs11Module;

/** tw.ini in EKey mode; module_env names the SoftHSM2 store, as `nqgw lab init --ekey` writes it. */
function ini(name: string, over: { token?: string; keyId?: string; pinFile?: string } = {}): string {
  return ekeyIni(join(dir, `${name}.ini`), {
    station: STATION,
    ca: join(dir, 'ca.pem'),
    token: over.token ?? 'station',
    keyId: over.keyId ?? '01',
    pinFile: over.pinFile ?? pinPath,
    softhsm2Conf: conf,
  });
}

function openssl(args: string[]): string {
  return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Counts the C_Login calls the module makes (the one thing a wrong PIN must not repeat). */
function loginSpy(m: Pkcs11Module): { calls: () => number } {
  const lib = (m as unknown as { lib: { C_Login: (...args: unknown[]) => void } }).lib;
  const spy = vi.spyOn(lib, 'C_Login');
  spy.mockClear();
  return { calls: () => spy.mock.calls.length };
}

function capture(): { io: { out(l: string): void; err(l: string): void }; text(): string } {
  const lines: string[] = [];
  return {
    io: { out: (l) => lines.push(l), err: (l) => lines.push(l) },
    text: () => lines.join('\n'),
  };
}

describe.skipIf(missing !== null)('nqgw ekey csr: a certificate request signed on the token', () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'nqgw-csr-'));
    conf = softhsmStore(dir).conf;
    for (const f of ['NQWT.DBF', 'NQHB.DBF']) writeFileSync(join(dir, f), '');
    const caKey = rsaKey();
    const ca = certificate({ cn: 'nqgw test CA', key: caKey, ca: true });
    writeFileSync(join(dir, 'ca.pem'), ca.pem);
    const load = (token: string, id: string, key: KeyPair, pub: KeyPair = key): void => {
      const base = join(dir, `${token}${id}`);
      writeFileSync(base + '.key.der', key.privateDer);
      writeFileSync(base + '.pub.der', pub.publicDer);
      writeFileSync(
        base + '.crt.der',
        certificate({ cn: STATION, key: pub, issuer: { cert: ca.cert, key: caKey } }).der,
      );
      writeObject(token, PIN, base + '.key.der', 'privkey', id, `key${id}`);
      writeObject(token, PIN, base + '.pub.der', 'pubkey', id, `key${id}`);
      writeObject(token, PIN, base + '.crt.der', 'cert', id, `cert${id}`);
    };
    // Token "station": 01 the station key; 05 a private key stored with another key's public object.
    initToken('station', PIN);
    stationKey = rsaKey();
    load('station', '01', stationKey);
    load('station', '05', rsaKey(), rsaKey());
    // Token "pintest" for the wrong PIN (a login to "station" elsewhere would not show it).
    initToken('pintest', PIN);
    load('pintest', '01', rsaKey());
    pinPath = join(dir, 'ekey.pin');
    writeFileSync(pinPath, PIN, { mode: 0o600 });
    module = new Pkcs11Module(SOFTHSM_MODULE ?? '');
  }, 120_000);

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('the real CLI writes a request that verifies, with the token key and the station as CN', async () => {
    const out = join(dir, 'station.csr');
    // No SOFTHSM2_CONF inherited: the command must take it from [ekey] module_env.
    const r = await runNqgw(['ekey', 'csr', '--config', ini('cli'), '--out', out], {
      SOFTHSM2_CONF: undefined,
    });
    expect(r.code, r.output).toBe(0);
    expect(r.output).toContain(`/CN=${STATION}`);
    expect(r.output).not.toContain(PIN);
    expect(statSync(out).mode & 0o777).toBe(0o644);
    expect(() => openssl(['req', '-verify', '-noout', '-in', out])).not.toThrow();
    const pub = openssl(['req', '-noout', '-pubkey', '-in', out]);
    // The station key's public half, as it went onto the token.
    const tokenPub = createPublicKey({ key: stationKey.publicDer, format: 'der', type: 'spki' })
      .export({ type: 'spki', format: 'pem' })
      .toString();
    expect(pub).toContain('BEGIN PUBLIC KEY');
    expect(pub.trim()).toBe(tokenPub.trim());
    expect(openssl(['req', '-noout', '-subject', '-nameopt', 'compat', '-in', out]).trim()).toBe(
      `subject=/CN=${STATION}`,
    );
    // The signature is sha256WithRSAEncryption.
    expect(openssl(['req', '-noout', '-text', '-in', out])).toContain('sha256WithRSAEncryption');
  });

  it('--cn names another subject', () => {
    const out = join(dir, 'cn.csr');
    const c = capture();
    expect(runEkeyCsr({ config: ini('cn'), out, cn: 'W888888T-renew' }, c.io, module)).toBe(0);
    expect(openssl(['req', '-noout', '-subject', '-nameopt', 'compat', '-in', out]).trim()).toBe(
      'subject=/CN=W888888T-renew',
    );
  });

  it('a wrong PIN: exit 3, 用户名或密码错误, exactly one login attempt, nothing written', async () => {
    const wrong = join(dir, 'wrong.pin');
    writeFileSync(wrong, '000000', { mode: 0o600 });
    const out = join(dir, 'wrong.csr');
    const logins = loginSpy(module);
    const c = capture();
    const code = runEkeyCsr(
      { config: ini('wrong', { token: 'pintest', pinFile: wrong }), out },
      c.io,
      module,
    );
    expect(code).toBe(3);
    expect(c.text()).toContain('[NQ102] 用户名或密码错误');
    expect(c.text()).not.toContain('000000');
    expect(logins.calls()).toBe(1);
    expect(existsSync(out)).toBe(false);
    // The same through the real CLI.
    const cliIni = ini('wrong-cli', { token: 'pintest', pinFile: wrong });
    const r = await runNqgw(['ekey', 'csr', '--config', cliIni, '--out', out]);
    expect(r.code, r.output).toBe(3);
    expect(r.output).toContain('用户名或密码错误');
    expect(existsSync(out)).toBe(false);
  });

  it('an existing --out is refused (exit 3) before the token is touched', () => {
    const out = join(dir, 'exists.csr');
    writeFileSync(out, 'keep me');
    const logins = loginSpy(module);
    const c = capture();
    expect(runEkeyCsr({ config: ini('exists'), out }, c.io, module)).toBe(3);
    expect(c.text()).toContain('NQ131');
    expect(readFileSync(out, 'utf8')).toBe('keep me');
    expect(logins.calls()).toBe(0);
  });

  it('a public-key object that is not the private key’s: refused (NQ101), nothing written', () => {
    const out = join(dir, 'mismatch.csr');
    const c = capture();
    expect(runEkeyCsr({ config: ini('mismatch', { keyId: '05' }), out }, c.io, module)).toBe(3);
    expect(c.text()).toContain('[NQ101]');
    expect(existsSync(out)).toBe(false);
  });

  it('a PIN file readable by others is a configuration error (exit 2), no login', () => {
    const loose = join(dir, 'loose.pin');
    writeFileSync(loose, PIN);
    chmodSync(loose, 0o644);
    const logins = loginSpy(module);
    const c = capture();
    expect(
      runEkeyCsr({ config: ini('loose', { pinFile: loose }), out: join(dir, 'loose.csr') }, c.io, module),
    ).toBe(2);
    expect(c.text()).toContain('readable by others');
    expect(logins.calls()).toBe(0);
  });
});

// Shown only where the real parts are missing, as a skip that says which.
if (missing !== null) {
  describe('EKey CSR tests skipped', () => {
    it.skip(`needs the real parts: ${missing}`, () => undefined);
  });
}
