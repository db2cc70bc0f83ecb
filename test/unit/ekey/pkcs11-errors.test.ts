import { describe, expect, it } from 'vitest';
import {
  CKR,
  EkeyDeviceError,
  EkeyPinError,
  ckrFromEngineError,
  ckrHex,
  ckrOf,
  mapEngineError,
  mapPkcs11Error,
} from '../../../appliance/src/ekey/index.js';

describe('CK_RV to the operator alert', () => {
  it.each([
    [0x30, 'CKR_DEVICE_ERROR', /re-plug the EKey.*another USB port.*spare EKey/],
    [0x32, 'CKR_DEVICE_REMOVED', /put it back/],
    [0xe0, 'CKR_TOKEN_NOT_PRESENT', /plug the EKey in.*passthrough or usbip/],
    [0xb0, 'CKR_SESSION_CLOSED', /reopens the token/],
    [0xb3, 'CKR_SESSION_HANDLE_INVALID', /reopens the token/],
  ])('CK_RV 0x%s -> %s with what to do', (rv, name, hint) => {
    const err = mapPkcs11Error(Object.assign(new Error(`${name}:${rv}`), { code: rv }), 'C_Sign');
    expect(err).toBeInstanceOf(EkeyDeviceError);
    const e = err as EkeyDeviceError;
    expect(e.code).toBe('NQ121');
    expect(e.ckrName).toBe(name);
    expect(e.message).toContain(`CK_RV=${ckrHex(rv)}`);
    expect(e.hint).toMatch(hint);
  });

  it('prints CK_RV=0x30 as the vendor log did', () => {
    expect(new EkeyDeviceError(CKR.DEVICE_ERROR, 'C_Sign').message).toBe(
      'EKey错误: C_Sign 失败, CK_RV=0x30 (CKR_DEVICE_ERROR)',
    );
  });

  it('maps a wrong PIN to the vendor words', () => {
    const err = mapPkcs11Error({ code: CKR.PIN_INCORRECT, message: 'CKR_PIN_INCORRECT' }, 'C_Login');
    expect(err).toBeInstanceOf(EkeyPinError);
    expect((err as EkeyPinError).message).toBe('用户名或密码错误');
    expect((err as EkeyPinError).code).toBe('NQ102');
  });

  it('reads the CK_RV from a pkcs11js message or code, and leaves other errors alone', () => {
    expect(ckrOf(new Error('CKR_DEVICE_ERROR'))).toBe(0x30);
    expect(ckrOf({ code: 0xe0 })).toBe(0xe0);
    const plain = new Error('boom');
    expect(mapPkcs11Error(plain, 'x')).toBe(plain);
  });

  it('reads the CK_RV out of the pkcs11 engine errors Node tls throws', () => {
    const pin = new Error('error:418000A0:PKCS#11 module::PIN incorrect');
    expect(ckrFromEngineError(pin)).toBe(0xa0);
    expect(mapEngineError(pin)).toBeInstanceOf(EkeyPinError);
    const stale = new Error('error:418000B3:PKCS#11 module::Session handle invalid');
    expect((mapEngineError(stale) as EkeyDeviceError).rv).toBe(0xb3);
    const dev = new Error(
      '80CCC8A8217F0000:error:41800030:PKCS#11 module:ERR_CKR_error:Device error:p11_rsa.c:120:',
    );
    expect((mapEngineError(dev) as EkeyDeviceError).message).toContain('CK_RV=0x30');
    expect(ckrFromEngineError(new Error('error:0A000438:SSL routines'))).toBe(null);
  });
});
