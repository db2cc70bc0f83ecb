import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TlsCredentials, TlsSecureOptions } from '../link/index.js';
import { type Clock, systemClock } from '../shared/index.js';
import { checkStationCertificate } from './certcheck.js';
import { readPinFile } from './pin.js';
import { applyModuleEnv, type EkeySettings } from './ekey-settings.js';
import { EkeyConfigError, EkeyDeviceError, EkeyPinError, CKR } from './pkcs11-errors.js';
import { Pkcs11Module, describeKey } from './token.js';

/**
 * The station's TLS identity on a PKCS#11 token (tw.ini `[tls] mode = ekey`). At every connect:
 * find the token (label/serial), read its certificate, check it (this station, configured CA,
 * validity, matches the key: else 您的Ekey证书有误…), check the PIN with one C_Login (wrong →
 * 用户名或密码错误, and no further attempt until the PIN source changes), then hand Node's tls the
 * certificate and a `pkcs11:` URI for OpenSSL's pkcs11 engine, which signs the handshake on the
 * token. The private key never leaves the token; the PIN stays in its file (pin-source=file:).
 *
 * Engine loading (found on Debian 12, Node 20, libengine-pkcs11-openssl 0.4.12): Node's own
 * OpenSSL does not know Debian's engine directory, so `privateKeyEngine: 'pkcs11'` alone fails
 * (DSO could not load the shared library), and a full path works only for the first connect of a
 * process (then `engine routines::init failed`). With OPENSSL_ENGINES set to the engine
 * directory, the id 'pkcs11' is loaded once, kept in OpenSSL's engine list and works for every
 * connect. PKCS11_MODULE_PATH tells the engine which module to use. See docs/ekey.md.
 */
export class Pkcs11TlsCredentials implements TlsCredentials {
  private readonly module: Pkcs11Module;
  /** Fingerprint of the PIN that was refused; while the PIN source is unchanged, no new attempt. */
  private refusedPin: { fingerprint: string; error: EkeyPinError } | null = null;
  /** C_Login attempts made (a wrong PIN must never be retried in a loop). */
  loginAttempts = 0;

  constructor(
    readonly settings: EkeySettings,
    readonly caPath: string,
    readonly stationId: string,
    private readonly clock: Clock = systemClock,
    module?: Pkcs11Module,
  ) {
    applyModuleEnv(settings); // before the module initializes: it reads e.g. SOFTHSM2_CONF then
    this.module = module ?? new Pkcs11Module(settings.module);
  }

  describe(): string {
    const token = [
      this.settings.tokenLabel !== undefined ? `label=${this.settings.tokenLabel}` : '',
      this.settings.tokenSerial !== undefined ? `serial=${this.settings.tokenSerial}` : '',
    ]
      .filter((s) => s)
      .join(' ');
    return `ekey module=${this.settings.module} token ${token} key ${describeKey(this.settings)}`;
  }

  private readPin(): { pin: string; fingerprint: string } {
    const pin = readPinFile(this.settings.pinFile);
    return { pin, fingerprint: createHash('sha256').update(pin).digest('hex') };
  }

  async secureContextOptions(): Promise<TlsSecureOptions> {
    const { pin, fingerprint } = this.readPin();
    if (this.refusedPin && this.refusedPin.fingerprint === fingerprint) throw this.refusedPin.error;

    let caPem: string;
    try {
      caPem = readFileSync(this.caPath, 'utf8');
    } catch (err) {
      throw new EkeyConfigError(
        `cannot read the main station's CA ${this.caPath} (${(err as Error).message})`,
      );
    }
    const reading = this.module.read(this.settings);
    const cert = checkStationCertificate(reading.certDer, {
      stationId: this.stationId,
      caPem,
      now: new Date(this.clock.now()),
      keyModulusHex: reading.keyModulusHex,
    });
    try {
      this.loginAttempts++;
      this.module.checkPin(this.settings, pin);
    } catch (err) {
      if (err instanceof EkeyPinError) this.refusedPin = { fingerprint, error: err };
      throw err;
    }
    this.refusedPin = null;
    prepareEngine(this.settings);
    const uriAttrs = [`token=${pct(reading.token.label)}`];
    if (reading.token.serial !== '') uriAttrs.push(`serial=${pct(reading.token.serial)}`);
    uriAttrs.push(`id=${pctHex(reading.keyIdHex)}`, 'type=private');
    return {
      ca: caPem,
      cert: cert.pem,
      privateKeyEngine: 'pkcs11',
      privateKeyIdentifier: `pkcs11:${uriAttrs.join(';')}?pin-source=file:${this.settings.pinFile}`,
    };
  }
}

/** Point Node's OpenSSL at Debian's pkcs11 engine and the engine at the token's module. */
export function prepareEngine(settings: Pick<EkeySettings, 'engineDir' | 'module'>): void {
  if (!existsSync(join(settings.engineDir, 'pkcs11.so'))) {
    throw new EkeyConfigError(
      `OpenSSL pkcs11 engine not found: ${join(settings.engineDir, 'pkcs11.so')}`,
      'apt-get install libengine-pkcs11-openssl, or set [ekey] engine_dir.',
    );
  }
  const loaded = process.env['PKCS11_MODULE_PATH'];
  if (loaded !== undefined && loaded !== settings.module && process.env['OPENSSL_ENGINES'] !== undefined) {
    throw new EkeyConfigError(
      `the pkcs11 engine in this process already uses ${loaded}, not ${settings.module}`,
      'One PKCS#11 module per gateway process; restart after changing [ekey] module.',
    );
  }
  process.env['OPENSSL_ENGINES'] = settings.engineDir;
  process.env['PKCS11_MODULE_PATH'] = settings.module;
}

function pct(text: string): string {
  return Array.from(Buffer.from(text, 'utf8'))
    .map((b) =>
      /[A-Za-z0-9\-._~]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).padStart(2, '0').toUpperCase()}`,
    )
    .join('');
}

function pctHex(hex: string): string {
  return (hex.match(/../g) ?? []).map((b) => `%${b.toUpperCase()}`).join('');
}

/**
 * The CK_RV inside an OpenSSL error raised by the pkcs11 engine during tls.connect (for example
 * `error:418000A0:PKCS#11 module::PIN incorrect` → 0xA0, `error:418000B3:…` → 0xB3).
 */
export function ckrFromEngineError(err: unknown): number | null {
  const m = /error:([0-9A-Fa-f]{8}):PKCS#11 module/.exec((err as Error | null)?.message ?? '');
  if (!m?.[1]) return null;
  return parseInt(m[1], 16) & 0x7fffff;
}

/** Map an engine error from tls.connect to EkeyPinError / EkeyDeviceError; others unchanged. */
export function mapEngineError(err: unknown): unknown {
  const rv = ckrFromEngineError(err);
  if (rv === null) return err;
  if (rv === CKR.PIN_INCORRECT) return new EkeyPinError({ cause: err });
  return new EkeyDeviceError(rv, 'TLS handshake (pkcs11 engine)', { cause: err });
}
