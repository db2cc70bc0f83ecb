import pkcs11js from 'pkcs11js';
import type { Handle, Template } from 'pkcs11js';
import { CKR, EkeyNotFoundError, ckrOf, mapPkcs11Error } from './pkcs11-errors.js';

/** Which token and which key: label and/or serial of the token, id (hex) and/or label of the key. */
export interface TokenSelector {
  tokenLabel?: string;
  tokenSerial?: string;
  keyIdHex?: string;
  keyLabel?: string;
}

export interface TokenDescription {
  slot: string;
  label: string;
  serial: string;
  manufacturer: string;
  model: string;
}

export interface TokenReading {
  token: TokenDescription;
  /** DER certificate with the key's id (or label). */
  certDer: Buffer;
  /** The private key's RSA modulus, hex, if the token lets it be read (it is a public attribute). */
  keyModulusHex: string | null;
  keyIdHex: string;
}

/**
 * The PKCS#11 module through pkcs11js: finds the token, reads the certificate, checks the PIN.
 * One module handle per process. The module is initialized once and never finalized while the
 * process may use OpenSSL's pkcs11 engine on it: the engine shares the module's global state in
 * this process, and a C_Finalize here invalidates the engine's sessions (seen as
 * CKR_SESSION_HANDLE_INVALID). CKR_CRYPTOKI_ALREADY_INITIALIZED is taken as success.
 */
export class Pkcs11Module {
  private readonly lib = new pkcs11js.PKCS11();
  private initialized = false;
  private loaded = false;

  constructor(readonly modulePath: string) {}

  private ensure(): void {
    if (this.initialized) return;
    if (!this.loaded) {
      try {
        this.lib.load(this.modulePath);
      } catch (err) {
        throw mapPkcs11Error(err, `load ${this.modulePath}`);
      }
      this.loaded = true;
    }
    try {
      this.lib.C_Initialize();
    } catch (err) {
      if (ckrOf(err) !== CKR.CRYPTOKI_ALREADY_INITIALIZED) throw mapPkcs11Error(err, 'C_Initialize');
    }
    this.initialized = true;
  }

  /**
   * OpenSSL's pkcs11 engine finalizes the module when its last functional reference goes (for
   * example after a failed key load): the next call here then meets
   * CKR_CRYPTOKI_NOT_INITIALIZED. Initialize again and retry once.
   */
  private slotList(): Handle[] {
    this.ensure();
    try {
      return this.lib.C_GetSlotList(true);
    } catch (err) {
      if (ckrOf(err) !== CKR.CRYPTOKI_NOT_INITIALIZED) throw mapPkcs11Error(err, 'C_GetSlotList');
    }
    try {
      this.lib.C_Initialize();
    } catch (err) {
      if (ckrOf(err) !== CKR.CRYPTOKI_ALREADY_INITIALIZED) throw mapPkcs11Error(err, 'C_Initialize');
    }
    try {
      return this.lib.C_GetSlotList(true);
    } catch (err) {
      throw mapPkcs11Error(err, 'C_GetSlotList');
    }
  }

  /**
   * Is the selected token in a slot now? For the hot-plug watcher's probe. A module that errors
   * (SoftHSM answers CKR_GENERAL_ERROR once its store has vanished, and keeps doing so after it
   * is back) is finalized and initialized again, once, before answering: after a removal the
   * module's old sessions are lost anyway.
   */
  present(sel: TokenSelector): boolean {
    const match = (t: TokenDescription): boolean =>
      (sel.tokenLabel === undefined || t.label === sel.tokenLabel) &&
      (sel.tokenSerial === undefined || t.serial === sel.tokenSerial);
    try {
      return this.tokens().some(match);
    } catch {
      this.reinitialize();
      try {
        return this.tokens().some(match);
      } catch {
        return false;
      }
    }
  }

  /** C_Finalize then C_Initialize (errors of the finalize ignored). */
  reinitialize(): void {
    if (!this.loaded) {
      this.ensure();
      return;
    }
    if (this.initialized) {
      try {
        this.lib.C_Finalize();
      } catch {
        /* not initialized, or the module is in a bad state: initialize anyway */
      }
      this.initialized = false;
    }
    try {
      this.lib.C_Initialize();
      this.initialized = true;
    } catch (err) {
      if (ckrOf(err) === CKR.CRYPTOKI_ALREADY_INITIALIZED) this.initialized = true;
    }
  }

  /** Tokens present now. */
  tokens(): TokenDescription[] {
    const slots = this.slotList();
    const out: TokenDescription[] = [];
    for (const slot of slots) {
      try {
        const info = this.lib.C_GetTokenInfo(slot);
        if (!(info.flags & pkcs11js.CKF_TOKEN_INITIALIZED)) continue;
        out.push({
          slot: slot.toString('hex'),
          label: info.label.trim(),
          serial: info.serialNumber.trim(),
          manufacturer: info.manufacturerID.trim(),
          model: info.model.trim(),
        });
      } catch (err) {
        const rv = ckrOf(err);
        if (rv === CKR.TOKEN_NOT_PRESENT || rv === CKR.DEVICE_REMOVED) continue;
        throw mapPkcs11Error(err, 'C_GetTokenInfo');
      }
    }
    return out;
  }

  private findSlot(sel: TokenSelector): { slot: Handle; token: TokenDescription } {
    const tokens = this.tokens();
    const match = tokens.find(
      (t) =>
        (sel.tokenLabel === undefined || t.label === sel.tokenLabel) &&
        (sel.tokenSerial === undefined || t.serial === sel.tokenSerial),
    );
    if (!match) {
      const what = [
        sel.tokenLabel !== undefined ? `label '${sel.tokenLabel}'` : '',
        sel.tokenSerial !== undefined ? `serial '${sel.tokenSerial}'` : '',
      ]
        .filter((s) => s)
        .join(', ');
      throw new EkeyNotFoundError(
        what || 'any token',
        tokens.map((t) => `${t.label} (${t.serial})`),
      );
    }
    return { slot: Buffer.from(match.slot, 'hex'), token: match };
  }

  private withSession<T>(slot: Handle, fn: (s: Handle) => T): T {
    let session: Handle;
    try {
      session = this.lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION);
    } catch (err) {
      throw mapPkcs11Error(err, 'C_OpenSession');
    }
    try {
      return fn(session);
    } finally {
      try {
        this.lib.C_CloseSession(session);
      } catch {
        /* the token may be gone; nothing to release then */
      }
    }
  }

  private find(session: Handle, template: Template): Handle[] {
    try {
      this.lib.C_FindObjectsInit(session, template);
      try {
        return this.lib.C_FindObjects(session, 8);
      } finally {
        this.lib.C_FindObjectsFinal(session);
      }
    } catch (err) {
      throw mapPkcs11Error(err, 'C_FindObjects');
    }
  }

  /** Find the token and read the station certificate (no PIN needed). */
  read(sel: TokenSelector): TokenReading {
    const { slot, token } = this.findSlot(sel);
    return this.withSession(slot, (session) => {
      const keyAttrs: Template = [];
      if (sel.keyIdHex !== undefined)
        keyAttrs.push({ type: pkcs11js.CKA_ID, value: Buffer.from(sel.keyIdHex, 'hex') });
      if (sel.keyLabel !== undefined) keyAttrs.push({ type: pkcs11js.CKA_LABEL, value: sel.keyLabel });
      const certs = this.find(session, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_CERTIFICATE },
        ...keyAttrs,
      ]);
      const cert = certs[0];
      if (cert === undefined) {
        throw new EkeyNotFoundError(`certificate ${describeKey(sel)} on token '${token.label}'`, [
          `${token.label} (${token.serial})`,
        ]);
      }
      let certDer: Buffer;
      let idHex: string;
      try {
        const [value, id] = this.lib.C_GetAttributeValue(session, cert, [
          { type: pkcs11js.CKA_VALUE },
          { type: pkcs11js.CKA_ID },
        ]);
        certDer = value?.value as Buffer;
        idHex = ((id?.value as Buffer | undefined) ?? Buffer.alloc(0)).toString('hex');
      } catch (err) {
        throw mapPkcs11Error(err, 'C_GetAttributeValue(certificate)');
      }
      // The private key's modulus: a public attribute, readable without login on most tokens.
      let keyModulusHex: string | null = null;
      const keys = this.find(session, [
        { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
        { type: pkcs11js.CKA_ID, value: Buffer.from(idHex, 'hex') },
      ]);
      const pub = keys[0];
      if (pub !== undefined) {
        try {
          const [mod] = this.lib.C_GetAttributeValue(session, pub, [{ type: pkcs11js.CKA_MODULUS }]);
          keyModulusHex = (mod?.value as Buffer).toString('hex');
        } catch {
          keyModulusHex = null;
        }
      }
      return { token, certDer, keyModulusHex, keyIdHex: idHex };
    });
  }

  /**
   * One C_Login with the PIN, then logout. CKR_PIN_INCORRECT becomes EkeyPinError (用户名或密码错误).
   * Called once per attempt by the caller, which must not loop on a wrong PIN.
   */
  checkPin(sel: TokenSelector, pin: string): void {
    const { slot } = this.findSlot(sel);
    this.withSession(slot, (session) => {
      try {
        this.lib.C_Login(session, pkcs11js.CKU_USER, pin);
      } catch (err) {
        if (ckrOf(err) === CKR.USER_ALREADY_LOGGED_IN) return;
        throw mapPkcs11Error(err, 'C_Login');
      }
      try {
        this.lib.C_Logout(session);
      } catch {
        /* the session closes anyway */
      }
    });
  }

  /**
   * Sign on the token with the selected private key: one C_Login (wrong PIN → EkeyPinError, never
   * retried here, so a wrong PIN file cannot lock the token), C_SignInit + C_Sign, logout.
   * `data` may be a function of the key's public half (CKA_MODULUS, CKA_PUBLIC_EXPONENT of the
   * public-key object with the same id/label, read before the login): a certificate request
   * carries the key that signs it, and both then come from one session on one token.
   */
  signWithKey(
    sel: TokenSelector,
    pin: string,
    mechanism: number,
    data: Buffer | ((pub: { modulus: Buffer; publicExponent: Buffer }) => Buffer),
  ): Buffer {
    const { slot, token } = this.findSlot(sel);
    const keyAttrs: Template = [];
    if (sel.keyIdHex !== undefined)
      keyAttrs.push({ type: pkcs11js.CKA_ID, value: Buffer.from(sel.keyIdHex, 'hex') });
    if (sel.keyLabel !== undefined) keyAttrs.push({ type: pkcs11js.CKA_LABEL, value: sel.keyLabel });
    const absent = (what: string): EkeyNotFoundError =>
      new EkeyNotFoundError(`${what} ${describeKey(sel)} on token '${token.label}'`, [
        `${token.label} (${token.serial})`,
      ]);
    return this.withSession(slot, (session) => {
      let bytes: Buffer;
      if (Buffer.isBuffer(data)) bytes = data;
      else {
        const pub = this.find(session, [
          { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PUBLIC_KEY },
          ...keyAttrs,
        ])[0];
        if (pub === undefined) throw absent('public key');
        let attrs;
        try {
          attrs = this.lib.C_GetAttributeValue(session, pub, [
            { type: pkcs11js.CKA_MODULUS },
            { type: pkcs11js.CKA_PUBLIC_EXPONENT },
          ]);
        } catch (err) {
          throw mapPkcs11Error(err, 'C_GetAttributeValue(public key)');
        }
        bytes = data({ modulus: attrs[0]?.value as Buffer, publicExponent: attrs[1]?.value as Buffer });
      }
      let loggedIn = false;
      try {
        try {
          this.lib.C_Login(session, pkcs11js.CKU_USER, pin);
          loggedIn = true;
        } catch (err) {
          // Another session of this process is logged in (login state is per token): sign on it,
          // and do not log it out from under its owner.
          if (ckrOf(err) !== CKR.USER_ALREADY_LOGGED_IN) throw mapPkcs11Error(err, 'C_Login');
        }
        // Private objects are visible only after the login.
        const key = this.find(session, [
          { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
          ...keyAttrs,
        ])[0];
        if (key === undefined) throw absent('private key');
        try {
          this.lib.C_SignInit(session, { mechanism }, key);
          return this.lib.C_Sign(session, bytes, Buffer.alloc(1024)); // room for RSA up to 8192 bits
        } catch (err) {
          throw mapPkcs11Error(err, 'C_Sign');
        }
      } finally {
        if (loggedIn) {
          try {
            this.lib.C_Logout(session);
          } catch {
            /* the session closes anyway */
          }
        }
      }
    });
  }
}

export function describeKey(sel: TokenSelector): string {
  const parts = [];
  if (sel.keyIdHex !== undefined) parts.push(`id ${sel.keyIdHex}`);
  if (sel.keyLabel !== undefined) parts.push(`label '${sel.keyLabel}'`);
  return parts.length > 0 ? parts.join(', ') : '(first)';
}
