import { afterEach, describe, expect, it } from 'vitest';
import type { TwConfig } from '../../../appliance/src/config/index.js';
import {
  EkeyConfigError,
  applyModuleEnv,
  ekeySettingsFromConfig,
  parseModuleEnv,
} from '../../../appliance/src/ekey/index.js';

/** Just what ekeySettingsFromConfig reads: the [ekey] section and where tw.ini is. */
function config(ekey: Record<string, string>): TwConfig {
  return {
    source: '/etc/nqgw/tw.ini',
    extra: {
      ekey: {
        module: '/usr/lib/softhsm/libsofthsm2.so',
        token_label: 'W888888T',
        key_id: '01',
        pin_file: 'ekey.pin',
        engine_dir: '/usr/lib/x86_64-linux-gnu/engines-3',
        ...ekey,
      },
    },
  } as unknown as TwConfig;
}

describe('[ekey] module_env', () => {
  const touched: string[] = [];
  afterEach(() => {
    for (const k of touched.splice(0)) delete process.env[k];
  });

  it('is empty when absent or blank', () => {
    expect(ekeySettingsFromConfig(config({})).moduleEnv).toEqual({});
    expect(ekeySettingsFromConfig(config({ module_env: '  ' })).moduleEnv).toEqual({});
  });

  it('reads KEY=VALUE pairs separated by commas and/or whitespace', () => {
    const s = ekeySettingsFromConfig(
      config({ module_env: 'SOFTHSM2_CONF=/lab/softhsm/softhsm2.conf,  VENDOR_LOG=/var/log/x=1  _X2=a' }),
    );
    expect(s.moduleEnv).toEqual({
      SOFTHSM2_CONF: '/lab/softhsm/softhsm2.conf',
      VENDOR_LOG: '/var/log/x=1',
      _X2: 'a',
    });
  });

  it.each([
    ['SOFTHSM2_CONF', /not KEY=VALUE/],
    ['SOFTHSM2_CONF=', /not KEY=VALUE/],
    ['=value', /not an environment variable name/],
    ['softhsm2_conf=/x', /not an environment variable name/],
    ['2X=/x', /not an environment variable name/],
    ['A-B=/x', /not an environment variable name/],
    ['A=1, A=2', /given twice/],
    ['PKCS11_MODULE_PATH=/x.so', /set from \[ekey\] module/],
    ['OPENSSL_ENGINES=/x', /set from \[ekey\] module/],
  ])('refuses %j', (value, message) => {
    expect(() => ekeySettingsFromConfig(config({ module_env: value }))).toThrow(EkeyConfigError);
    expect(() => parseModuleEnv(value)).toThrow(message);
  });

  it('names the key in the config error', () => {
    expect(() => parseModuleEnv('bad')).toThrow(/^\[ekey\] module_env: /);
  });

  it('applyModuleEnv puts the variables into process.env, for the module and child processes', () => {
    touched.push('NQGW_TEST_MODULE_ENV');
    process.env['NQGW_TEST_MODULE_ENV'] = 'inherited';
    applyModuleEnv(ekeySettingsFromConfig(config({ module_env: 'NQGW_TEST_MODULE_ENV=/from/tw.ini' })));
    expect(process.env['NQGW_TEST_MODULE_ENV']).toBe('/from/tw.ini');
    applyModuleEnv({});
    expect(process.env['NQGW_TEST_MODULE_ENV']).toBe('/from/tw.ini');
  });
});

describe('[ekey] poll_ms and usb_ids (hot-plug)', () => {
  it('defaults to a look every second and no extra USB ids', () => {
    const s = ekeySettingsFromConfig(config({}));
    expect(s.pollMs).toBe(1000);
    expect(s.usbIds).toEqual([]);
  });

  it('reads poll_ms and usb_ids (vvvv or vvvv:pppp)', () => {
    const s = ekeySettingsFromConfig(config({ poll_ms: '250', usb_ids: '0a89, 1234:abcd' }));
    expect(s.pollMs).toBe(250);
    expect(s.usbIds).toEqual(['0a89', '1234:abcd']);
  });

  it.each([
    [{ poll_ms: '50' }, /poll_ms: expected 100..60000/],
    [{ poll_ms: 'fast' }, /poll_ms/],
    [{ usb_ids: '096e:07' }, /usb_ids: '096e:07' is not vvvv or vvvv:pppp/],
  ])('refuses %o', (ekey, message) => {
    expect(() => ekeySettingsFromConfig(config(ekey))).toThrow(EkeyConfigError);
    expect(() => ekeySettingsFromConfig(config(ekey))).toThrow(message);
  });
});
