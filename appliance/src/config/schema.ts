/**
 * The sections and keys tw.ini may hold (types.ts documents their meaning and defaults). Kept as
 * data so that unknown keys can be named, a misplaced key can be sent to its section, and a typo
 * can be answered with "did you mean".
 */
export const KNOWN_KEYS = {
  station: ['id', 'units'],
  files: ['orders', 'returns', 'state_dir'],
  /** Plus `serverN` and `serverN_name` (N = 1, 2, ...), matched by SERVER_KEY_RE. */
  servers: [] as string[],
  tls: ['mode', 'ca', 'cert', 'key', 'server_name'],
  link: [
    'heartbeat_ms',
    'silence_ms',
    'connect_timeout_ms',
    'backoff_initial_ms',
    'backoff_max_ms',
    'primary_retry_s',
    'answer_timeout_ms',
  ],
  options: [
    'no_fills',
    'link_down_flag',
    'time_file',
    'time_file_interval_s',
    'auto_exit',
    'archive_old_returns',
    'send_block_warn_ms',
    'invalid_flag_retry_s',
  ],
  management: ['listen', 'token_file', 'alert_webhook', 'require_checker', 'tls', 'tls_cert', 'tls_key'],
} as const satisfies Record<string, readonly string[]>;

export type KnownSection = keyof typeof KNOWN_KEYS;

/**
 * Sections that other rooms read (clock: time servers and drift policy; logs: log shipping to
 * object storage; ekey: token settings; soft: soft-encryption settings). Their keys are passed
 * through in TwConfig.extra untouched; their owners validate them.
 */
export const EXTRA_SECTIONS = [
  'clock',
  'logs',
  'ekey',
  'soft',
  // [share] mount_point = /srv/counter: the counter's share holding the DBF files (optional;
  // cutover's preflight checks that it is mounted: cutover/share-check.ts).
  'share',
  // [alerts]: the alert channels for people, SMS gateway webhook and mail relay (ops/channels.ts).
  'alerts',
] as const;

/** `server1` ... and `server1_name` ...: group 1 is N, group 2 is `_name` when present. */
export const SERVER_KEY_RE = /^server([1-9]\d{0,2})(_name)?$/;

export const TLS_MODES = ['file', 'ekey', 'soft'] as const;

/** The main station drops a gateway it has not heard from for 30 s (seed 000). */
export const MAIN_STATION_SILENCE_LIMIT_MS = 30_000;

export function isKnownSection(name: string): name is KnownSection {
  return Object.prototype.hasOwnProperty.call(KNOWN_KEYS, name);
}

export function isExtraSection(name: string): boolean {
  return (EXTRA_SECTIONS as readonly string[]).includes(name);
}

export function allSectionNames(): string[] {
  return [...Object.keys(KNOWN_KEYS), ...EXTRA_SECTIONS];
}

export function isKnownKey(section: KnownSection, key: string): boolean {
  if (section === 'servers') return SERVER_KEY_RE.test(key);
  return (KNOWN_KEYS[section] as readonly string[]).includes(key);
}

/** The section a key belongs to, when it is unambiguous (used to move a misplaced line). */
export function sectionOfKey(key: string): KnownSection | null {
  const owners = (Object.keys(KNOWN_KEYS) as KnownSection[]).filter((s) => isKnownKey(s, key));
  return owners.length === 1 ? owners[0]! : null;
}

/** Key names to offer in a "did you mean" for a section. */
export function suggestionsFor(section: KnownSection): string[] {
  if (section === 'servers') return ['server1', 'server2', 'server3', 'server4', 'server1_name'];
  return [...KNOWN_KEYS[section]];
}
