import { ClockSettingsError } from './errors.js';
import { parseServer, type TimeServer } from './server.js';

/**
 * The [clock] section of tw.ini. `config/` hands it over as raw strings; this file is the one
 * place its keys are defined and checked.
 *
 *   [clock]
 *   servers = 100.100.0.1, 100.100.0.2:123   ; the cloud's NTP servers, host[:port], comma separated
 *   interval_s = 64              ; one measurement round every N seconds
 *   warn_ms = 50                 ; state 'warn' at |offset| >= warn_ms
 *   alarm_ms = 100               ; state 'alarm' at |offset| >= alarm_ms (the regulatory limit)
 *   policy = alert               ; alert | hold: hold also holds new orders while in 'alarm'
 *   hold_on_unknown = false      ; with policy = hold: hold too while no server answers
 *   timeout_ms = 1000            ; wait this long for each server's answer
 *   samples = 3                  ; queries per server per round, the lowest-delay one kept
 *   chrony = auto                ; auto | off: read `chronyc -c tracking` as a second opinion
 *   chrony_disagree_ms = 20      ; report when chrony and our figure differ by this much
 */

export type ClockPolicy = 'alert' | 'hold';

export interface ClockSettings {
  servers: TimeServer[];
  intervalS: number;
  warnMs: number;
  alarmMs: number;
  policy: ClockPolicy;
  holdOnUnknown: boolean;
  timeoutMs: number;
  samples: number;
  chrony: 'auto' | 'off';
  chronyDisagreeMs: number;
}

export const CLOCK_DEFAULTS: Omit<ClockSettings, 'servers'> = {
  intervalS: 64,
  warnMs: 50,
  alarmMs: 100,
  policy: 'alert',
  holdOnUnknown: false,
  timeoutMs: 1000,
  samples: 3,
  chrony: 'auto',
  chronyDisagreeMs: 20,
};

const KEYS = [
  'servers',
  'interval_s',
  'warn_ms',
  'alarm_ms',
  'policy',
  'hold_on_unknown',
  'timeout_ms',
  'samples',
  'chrony',
  'chrony_disagree_ms',
] as const;

export interface ParseClockOptions {
  /** When false, a missing `servers` gives an empty list (the CLI supplies --server). Default true. */
  requireServers?: boolean;
}

/** Parse and check the raw [clock] key/values; throws ClockSettingsError naming the key. */
export function parseClockSettings(
  raw: Record<string, string> | undefined,
  options: ParseClockOptions = {},
): ClockSettings {
  const section = raw ?? {};
  for (const key of Object.keys(section)) {
    if (!(KEYS as readonly string[]).includes(key)) {
      throw new ClockSettingsError(key, `unknown key (known: ${KEYS.join(', ')})`);
    }
  }
  const get = (key: (typeof KEYS)[number]): string | undefined => {
    const v = section[key]?.trim();
    return v === undefined || v === '' ? undefined : v;
  };

  const serversText = get('servers');
  let servers: TimeServer[] = [];
  if (serversText !== undefined) servers = parseServerList(serversText, 'servers');
  else if (options.requireServers ?? true) {
    throw new ClockSettingsError('servers', 'required: the time servers to measure against, host[:port],...');
  }

  const settings: ClockSettings = {
    servers,
    intervalS: integer(get('interval_s'), 'interval_s', CLOCK_DEFAULTS.intervalS, 1, 86_400),
    warnMs: integer(get('warn_ms'), 'warn_ms', CLOCK_DEFAULTS.warnMs, 1, 3_600_000),
    alarmMs: integer(get('alarm_ms'), 'alarm_ms', CLOCK_DEFAULTS.alarmMs, 1, 3_600_000),
    policy: oneOf(get('policy'), 'policy', ['alert', 'hold'] as const, CLOCK_DEFAULTS.policy),
    holdOnUnknown: boolean(get('hold_on_unknown'), 'hold_on_unknown', CLOCK_DEFAULTS.holdOnUnknown),
    timeoutMs: integer(get('timeout_ms'), 'timeout_ms', CLOCK_DEFAULTS.timeoutMs, 1, 60_000),
    samples: integer(get('samples'), 'samples', CLOCK_DEFAULTS.samples, 1, 8),
    chrony: oneOf(get('chrony'), 'chrony', ['auto', 'off'] as const, CLOCK_DEFAULTS.chrony),
    chronyDisagreeMs: integer(
      get('chrony_disagree_ms'),
      'chrony_disagree_ms',
      CLOCK_DEFAULTS.chronyDisagreeMs,
      1,
      3_600_000,
    ),
  };
  if (settings.alarmMs <= settings.warnMs) {
    throw new ClockSettingsError(
      'alarm_ms',
      `must be above warn_ms (${settings.warnMs}), got ${settings.alarmMs}`,
    );
  }
  if (settings.timeoutMs * settings.samples >= settings.intervalS * 1000) {
    throw new ClockSettingsError(
      'timeout_ms',
      `timeout_ms × samples must be shorter than interval_s (${settings.intervalS} s), ` +
        `got ${settings.timeoutMs} ms × ${settings.samples}`,
    );
  }
  return settings;
}

/**
 * The [clock] settings of a loaded tw.ini. Typed by shape (TwConfig's `extra`) rather than by
 * importing config/'s inner files, so this room depends on nothing but shared/.
 */
export function clockSettingsFromConfig(
  config: { extra: Record<string, Record<string, string> | undefined> },
  options: ParseClockOptions = {},
): ClockSettings {
  return parseClockSettings(config.extra['clock'], options);
}

/** "host[:port], host[:port]" (commas and/or spaces); `key` names the source in errors. */
export function parseServerList(text: string, key: string): TimeServer[] {
  const parts = text.split(/[,\s]+/).filter((p) => p !== '');
  if (parts.length === 0) throw new ClockSettingsError(key, 'no server given');
  const seen = new Set<string>();
  const servers: TimeServer[] = [];
  for (const part of parts) {
    const parsed = parseServer(part);
    if (typeof parsed === 'string') throw new ClockSettingsError(key, parsed);
    const id = `${parsed.host}|${parsed.port}`;
    if (seen.has(id)) throw new ClockSettingsError(key, `'${part}' is listed twice`);
    seen.add(id);
    servers.push(parsed);
  }
  return servers;
}

function integer(text: string | undefined, key: string, dflt: number, min: number, max: number): number {
  if (text === undefined) return dflt;
  if (!/^\d+$/.test(text)) throw new ClockSettingsError(key, `expected a whole number, got '${text}'`);
  const n = Number(text);
  if (n < min || n > max) throw new ClockSettingsError(key, `expected ${min} to ${max}, got ${n}`);
  return n;
}

function oneOf<T extends string>(text: string | undefined, key: string, allowed: readonly T[], dflt: T): T {
  if (text === undefined) return dflt;
  const v = text.toLowerCase();
  const hit = allowed.find((a) => a === v);
  if (hit === undefined) throw new ClockSettingsError(key, `expected ${allowed.join(' or ')}, got '${text}'`);
  return hit;
}

function boolean(text: string | undefined, key: string, dflt: boolean): boolean {
  if (text === undefined) return dflt;
  const v = text.toLowerCase();
  if (['true', 'yes', 'on', '1'].includes(v)) return true;
  if (['false', 'no', 'off', '0'].includes(v)) return false;
  throw new ClockSettingsError(key, `expected true or false, got '${text}'`);
}
