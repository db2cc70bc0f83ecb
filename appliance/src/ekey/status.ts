import { readFileSync } from 'node:fs';
import type { TwConfig } from '../config/index.js';
import { AppError, type Clock, systemClock } from '../shared/index.js';
import { checkStationCertificate } from './certcheck.js';
import { applyModuleEnv, ekeySettingsFromConfig } from './ekey-settings.js';
import { Pkcs11Module, type TokenDescription } from './token.js';
import { listEkeyUsbDevices, type UsbDevice } from './usb.js';

export interface EkeyStatus {
  mode: string;
  module: string | null;
  usb: UsbDevice[];
  tokens: TokenDescription[];
  /** The configured token is present. */
  tokenFound: boolean;
  certificate: {
    subject: string;
    issuer: string;
    notAfter: string;
    ok: boolean;
    problem: string | null;
  } | null;
  /** What went wrong (code, words, what to do), if anything. */
  error: { code: string; message: string; hint?: string } | null;
}

export type EkeyState = 'ok' | 'certificate' | 'absent' | 'error';

export function ekeyState(s: EkeyStatus): EkeyState {
  if (!s.tokenFound) return s.error === null || s.error.code === 'NQ122' ? 'absent' : 'error';
  if (s.certificate && !s.certificate.ok) return 'certificate';
  return s.error ? 'error' : 'ok';
}

function errorOf(err: unknown): EkeyStatus['error'] {
  if (err instanceof AppError)
    return { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) };
  return { code: 'NQ123', message: (err as Error)?.message ?? String(err) };
}

/**
 * What the appliance sees of the EKey now: USB devices (sysfs), tokens in the module's slots, the
 * configured token and its certificate checked against this station and the CA. No PIN is tried.
 */
export function ekeyStatus(
  config: TwConfig,
  deps: { clock?: Clock; sysfs?: string; module?: Pkcs11Module } = {},
): EkeyStatus {
  // Read here, not from the settings: the devices are listed even when [ekey] is incomplete.
  const usbIds = (config.extra['ekey']?.['usb_ids'] ?? '').split(/[\s,]+/).filter((s) => s !== '');
  const status: EkeyStatus = {
    mode: config.tls.mode,
    module: null,
    usb: listEkeyUsbDevices(usbIds, deps.sysfs),
    tokens: [],
    tokenFound: false,
    certificate: null,
    error: null,
  };
  let settings;
  try {
    settings = ekeySettingsFromConfig(config);
  } catch (err) {
    status.error = errorOf(err);
    return status;
  }
  status.module = settings.module;
  // The module reads its environment (SoftHSM2: SOFTHSM2_CONF) at C_Initialize, below.
  applyModuleEnv(settings);
  const module = deps.module ?? new Pkcs11Module(settings.module);
  try {
    status.tokens = module.tokens();
    const reading = module.read(settings);
    status.tokenFound = true;
    try {
      const cert = checkStationCertificate(reading.certDer, {
        stationId: config.station.id,
        caPem: readFileSync(config.tls.ca, 'utf8'),
        now: new Date((deps.clock ?? systemClock).now()),
        keyModulusHex: reading.keyModulusHex,
      });
      status.certificate = {
        subject: cert.subject,
        issuer: cert.issuer,
        notAfter: cert.notAfter.toISOString(),
        ok: true,
        problem: null,
      };
    } catch (err) {
      const e = errorOf(err);
      status.certificate = {
        subject: '',
        issuer: '',
        notAfter: '',
        ok: false,
        problem: e?.hint ?? e?.message ?? '',
      };
      status.error = e;
    }
  } catch (err) {
    status.error = errorOf(err);
  }
  return status;
}
