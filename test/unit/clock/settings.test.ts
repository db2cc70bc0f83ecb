import { describe, expect, it } from 'vitest';
import {
  CLOCK_DEFAULTS,
  ClockSettingsError,
  clockSettingsFromConfig,
  parseClockSettings,
  parseServerList,
} from '../../../appliance/src/clock/index.js';

function settingsError(fn: () => unknown): ClockSettingsError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ClockSettingsError);
    return err as ClockSettingsError;
  }
  throw new Error('expected a ClockSettingsError');
}

describe('[clock] settings', () => {
  it('gives the defaults for everything but servers', () => {
    const s = parseClockSettings({ servers: '100.100.0.1' });
    expect(s).toEqual({ ...CLOCK_DEFAULTS, servers: [{ host: '100.100.0.1', port: 123 }] });
    expect(s.intervalS).toBe(64);
    expect(s.warnMs).toBe(50);
    expect(s.alarmMs).toBe(100);
    expect(s.policy).toBe('alert');
    expect(s.holdOnUnknown).toBe(false);
    expect(s.timeoutMs).toBe(1000);
    expect(s.chrony).toBe('auto');
  });

  it('reads every key', () => {
    const s = parseClockSettings({
      servers: 'ntp1.cloud.local:1123, 10.0.0.2 [::1]:4123',
      interval_s: '16',
      warn_ms: '40',
      alarm_ms: '90',
      policy: 'HOLD',
      hold_on_unknown: 'yes',
      timeout_ms: '500',
      samples: '2',
      chrony: 'off',
      chrony_disagree_ms: '10',
    });
    expect(s).toEqual({
      servers: [
        { host: 'ntp1.cloud.local', port: 1123 },
        { host: '10.0.0.2', port: 123 },
        { host: '::1', port: 4123 },
      ],
      intervalS: 16,
      warnMs: 40,
      alarmMs: 90,
      policy: 'hold',
      holdOnUnknown: true,
      timeoutMs: 500,
      samples: 2,
      chrony: 'off',
      chronyDisagreeMs: 10,
    });
  });

  it('takes the section from a loaded tw.ini (config.extra.clock)', () => {
    const s = clockSettingsFromConfig({ extra: { clock: { servers: '127.0.0.1:1123', policy: 'hold' } } });
    expect(s.policy).toBe('hold');
    expect(s.servers).toEqual([{ host: '127.0.0.1', port: 1123 }]);
  });

  it('requires servers unless told otherwise', () => {
    expect(settingsError(() => parseClockSettings(undefined)).key).toBe('servers');
    expect(settingsError(() => clockSettingsFromConfig({ extra: {} })).key).toBe('servers');
    expect(parseClockSettings(undefined, { requireServers: false }).servers).toEqual([]);
  });

  it.each([
    ['interval_s', 'abc', /whole number.*'abc'/],
    ['interval_s', '0', /1 to 86400/],
    ['warn_ms', '-5', /whole number/],
    ['warn_ms', '12.5', /whole number/],
    ['alarm_ms', '', /./],
    ['timeout_ms', '70000', /1 to 60000/],
    ['policy', 'block', /alert or hold.*'block'/],
    ['chrony', 'maybe', /auto or off/],
    ['hold_on_unknown', 'sometimes', /true or false/],
    ['chrony_disagree_ms', 'x', /whole number/],
    ['samples', '0', /1 to 8/],
    ['samples', '9', /1 to 8/],
  ])('rejects %s = %j, naming the key', (key, value, message) => {
    if (value === '') {
      // An empty value means "default", which is allowed.
      expect(() => parseClockSettings({ servers: 'a', [key]: value })).not.toThrow();
      return;
    }
    const err = settingsError(() => parseClockSettings({ servers: 'a', [key]: value }));
    expect(err.key).toBe(key);
    expect(err.code).toBe('CLOCK_SETTING');
    expect(err.message).toContain(`[clock] ${key}:`);
    expect(err.message).toMatch(message);
  });

  it('rejects an unknown key (a typo must not silently fall back to a default)', () => {
    const err = settingsError(() => parseClockSettings({ servers: 'a', warn_msec: '30' }));
    expect(err.key).toBe('warn_msec');
    expect(err.message).toContain('unknown key');
  });

  it('wants alarm_ms above warn_ms', () => {
    const err = settingsError(() => parseClockSettings({ servers: 'a', warn_ms: '100', alarm_ms: '100' }));
    expect(err.key).toBe('alarm_ms');
  });

  it('wants a whole burst (timeout_ms × samples) shorter than interval_s', () => {
    const one = settingsError(() =>
      parseClockSettings({ servers: 'a', interval_s: '1', timeout_ms: '1000', samples: '1' }),
    );
    expect(one.key).toBe('timeout_ms');
    const three = settingsError(() =>
      parseClockSettings({ servers: 'a', interval_s: '3', timeout_ms: '1000' }),
    );
    expect(three.message).toContain('× 3');
    expect(parseClockSettings({ servers: 'a', interval_s: '4', timeout_ms: '1000' }).samples).toBe(3);
  });

  it.each([
    ['host:', /port/],
    ['host:0', /port/],
    ['host:70000', /port/],
    ['host:12a', /port/],
    ['[::1', /\]/],
    ['[::1]x', /:port/],
    ['a,a', /twice/],
    [' , ', /no server/],
  ])('rejects servers = %j', (value, message) => {
    const err = settingsError(() => parseServerList(value, 'servers'));
    expect(err.key).toBe('servers');
    expect(err.message).toMatch(message);
  });

  it('takes a bare IPv6 address with the default port', () => {
    expect(parseServerList('fd00::1', 'servers')).toEqual([{ host: 'fd00::1', port: 123 }]);
  });
});
