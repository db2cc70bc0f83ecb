import { AppError, VendorError } from '../shared/index.js';

/**
 * PKCS#11 return values (CK_RV) the EKey path meets, and what the operator should do about each.
 * The vendor's guide shows the handshake failing with `CK_RV=0x30` (CKR_DEVICE_ERROR) when the
 * EKey misbehaves; its remedy is re-plugging, another USB port, or the spare key.
 */
export const CKR = {
  OK: 0x00,
  GENERAL_ERROR: 0x05,
  DEVICE_ERROR: 0x30,
  DEVICE_MEMORY: 0x31,
  DEVICE_REMOVED: 0x32,
  OBJECT_HANDLE_INVALID: 0x82,
  PIN_INCORRECT: 0xa0,
  PIN_LOCKED: 0xa4,
  SESSION_CLOSED: 0xb0,
  SESSION_HANDLE_INVALID: 0xb3,
  TOKEN_NOT_PRESENT: 0xe0,
  TOKEN_NOT_RECOGNIZED: 0xe1,
  USER_ALREADY_LOGGED_IN: 0x100,
  CRYPTOKI_NOT_INITIALIZED: 0x190,
  CRYPTOKI_ALREADY_INITIALIZED: 0x191,
} as const;

const NAMES: Record<number, string> = Object.fromEntries(
  Object.entries(CKR).map(([k, v]) => [v, `CKR_${k}`]),
);

export function ckrName(rv: number): string {
  return NAMES[rv] ?? 'CKR_VENDOR_OR_UNKNOWN';
}

export function ckrHex(rv: number): string {
  return `0x${rv.toString(16).toUpperCase().padStart(2, '0')}`;
}

/** What to do, by CK_RV. */
const REMEDY: Record<number, string> = {
  [CKR.DEVICE_ERROR]:
    'EKey device error: re-plug the EKey; if it persists use another USB port (or re-attach the USB-over-IP device); after repeated failures switch to the spare EKey.',
  [CKR.DEVICE_MEMORY]: 'EKey out of memory: re-plug the EKey; if it persists switch to the spare EKey.',
  [CKR.DEVICE_REMOVED]:
    'The EKey was removed during the operation: put it back (or re-attach the passthrough/USB-over-IP device); orders wait in NQWT.DBF.',
  [CKR.TOKEN_NOT_PRESENT]:
    'No EKey in the slot: plug the EKey in (or attach it to the VM: hypervisor USB passthrough or usbip); orders wait in NQWT.DBF.',
  [CKR.TOKEN_NOT_RECOGNIZED]:
    'The EKey is not recognised: check the driver module, try another port, or use the spare EKey.',
  [CKR.SESSION_CLOSED]:
    'The EKey session was closed (token re-plugged or reset): the gateway reopens the token; if it keeps happening re-plug the EKey or use another USB port.',
  [CKR.SESSION_HANDLE_INVALID]:
    'The EKey session is no longer valid (token re-plugged or reset): the gateway reopens the token; if it keeps happening re-plug the EKey or use another USB port.',
  [CKR.OBJECT_HANDLE_INVALID]:
    'The key on the EKey is no longer reachable (token re-plugged): the gateway must reopen the token.',
  [CKR.PIN_LOCKED]:
    'The EKey PIN is locked: unlock it with the SO PIN (vendor tool) or use the spare EKey. Do not retry.',
};

/**
 * An EKey (PKCS#11) device failure, with its CK_RV, as an alert: the words include
 * `CK_RV=0x30` the way the vendor's log printed them, `hint` says what to do.
 */
export class EkeyDeviceError extends AppError {
  readonly ckrName: string;
  constructor(
    readonly rv: number,
    readonly operation: string,
    options?: { cause?: unknown },
  ) {
    super(
      'NQ121',
      `EKey错误: ${operation} 失败, CK_RV=${ckrHex(rv)} (${ckrName(rv)})`,
      REMEDY[rv] ??
        'Re-plug the EKey or try another USB port; after repeated failures switch to the spare EKey.',
      options,
    );
    this.ckrName = ckrName(rv);
  }
}

/** The configured token is not in any slot (absent, or another label/serial). */
export class EkeyNotFoundError extends AppError {
  constructor(what: string, seen: string[]) {
    super(
      'NQ122',
      `未找到Ekey: ${what} (tokens present: ${seen.length > 0 ? seen.join(', ') : 'none'})`,
      REMEDY[CKR.TOKEN_NOT_PRESENT],
    );
  }
}

/** Wrong PIN: the vendor's words. No retry: the credentials stay refused until the PIN source changes. */
export class EkeyPinError extends VendorError {
  constructor(options?: { cause?: unknown }) {
    super(
      'NQ102_BAD_PASSWORD',
      {},
      'The EKey PIN in the PIN file is wrong. Fix the PIN file (or systemd credential); the gateway will not try again until it changes, so the token is not locked by retries.',
      options,
    );
  }
}

/** The certificate on the token is not this station's: the vendor's words, the reason in `detail`. */
export class EkeyCertificateError extends VendorError {
  constructor(readonly detail: string) {
    super(
      'NQ101_EKEY_CERT',
      {},
      `${detail}. With the EKey: check that the right EKey is plugged in and the [ekey] token/key settings; in soft mode: the [soft] pkcs12 certificate.`,
    );
  }
}

/** Bad [ekey] settings (missing module, PIN file readable by others, ...). */
export class EkeyConfigError extends AppError {
  constructor(message: string, hint?: string) {
    super('NQ123', message, hint);
  }
}

/** The CK_RV of an error thrown by pkcs11js, if it is one. */
export function ckrOf(err: unknown): number | null {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'number') return code;
  const m = /CKR_\w+/.exec((err as Error | null)?.message ?? '');
  if (m) {
    const key = m[0].slice(4) as keyof typeof CKR;
    if (key in CKR) return CKR[key];
  }
  return null;
}

/** Turn a pkcs11js error into the typed error (PIN, device); anything else is returned as is. */
export function mapPkcs11Error(err: unknown, operation: string): unknown {
  const rv = ckrOf(err);
  if (rv === null) return err;
  if (rv === CKR.PIN_INCORRECT) return new EkeyPinError({ cause: err });
  return new EkeyDeviceError(rv, operation, { cause: err });
}
