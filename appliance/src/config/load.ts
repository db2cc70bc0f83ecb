import { dirname, resolve } from 'node:path';
import { ConfigError, sortProblems } from './errors.js';
import { parseIni, readIniFile } from './ini.js';
import { ReadContext, type SectionReader } from './reader.js';
import { checkHhmm, checkHostPort, STATION_ID_RE, TRADING_UNIT_RE } from './checks.js';
import { checkLayout } from './layout.js';
import { readManagementTls } from './management-tls.js';
import { isExtraSection, MAIN_STATION_SILENCE_LIMIT_MS, SERVER_KEY_RE, TLS_MODES } from './schema.js';
import type {
  GatewayOptions,
  LinkSettings,
  ManagementSettings,
  ServerAddress,
  TlsMode,
  TlsSettings,
  TwConfig,
} from './types.js';

/**
 * Read, check and type tw.ini. Relative paths are resolved against the directory of tw.ini;
 * absent optional keys take the defaults documented in types.ts. Throws ConfigError (NQ601)
 * listing every problem found, each with file, line and what to do.
 */
export function loadConfig(path: string): TwConfig {
  let decoded: ReturnType<typeof readIniFile>;
  try {
    decoded = readIniFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError(
      [
        {
          file: path,
          line: null,
          section: '',
          key: null,
          message: `cannot read the file (${code})`,
          hint: 'check the path and its permissions; a new one can be made with nqgw config render',
        },
      ],
      { cause: err },
    );
  }
  // GBK (a Windows-edited tw.ini) is read as GBK; bytes that are neither are refused, not garbled.
  if ('problem' in decoded) {
    const { line, message, hint } = decoded.problem;
    throw new ConfigError([{ file: path, line, section: '', key: null, message, hint }]);
  }
  return parseConfigText(decoded.text, path);
}

/** The same checks as loadConfig on text already in memory (`path` locates relative paths). */
export function parseConfigText(text: string, path: string): TwConfig {
  const source = resolve(path);
  const ctx = new ReadContext(path, dirname(source), parseIni(text, path));
  checkLayout(ctx, text);

  const station = readStation(ctx.section('station'));
  const files = readFiles(ctx.section('files'));
  const servers = readServers(ctx.section('servers'));
  const tls = readTls(ctx.section('tls'));
  const link = readLink(ctx.section('link'));
  const options = readOptions(ctx.section('options'), files.stateDir || undefined);
  const management = readManagement(ctx.section('management'), files.stateDir || undefined);
  const extra = readExtra(ctx);

  if (ctx.problems.length > 0) throw new ConfigError(sortProblems(ctx.problems));
  return { source, station, files, servers, tls, link, options, management, extra };
}

function readStation(s: SectionReader): TwConfig['station'] {
  const idText = s.required('id', 'add id = W888888T (the 小站号 given by the main station)');
  let id = '';
  if (idText !== undefined) {
    if (STATION_ID_RE.test(idText)) id = idText;
    else {
      const upper = idText.toUpperCase();
      s.problem(
        'id',
        `"${idText}" is not a station id (a capital letter, six digits, a capital letter)`,
        STATION_ID_RE.test(upper)
          ? `write it in capitals: id = ${upper}`
          : 'write the 小站号 exactly as the main station gave it, e.g. id = W888888T',
      );
    }
  }

  const unitsHint = 'write units as six digits separated by commas, e.g. 729900,729901';
  const unitsText = s.required('units', `add ${unitsHint.replace('write units as', 'units =')}`);
  const units: string[] = [];
  if (unitsText !== undefined) {
    for (const raw of unitsText.split(',')) {
      const unit = raw.trim();
      if (unit === '') {
        s.problem('units', 'has an empty item (two commas, or a comma at an end)', unitsHint);
      } else if (!TRADING_UNIT_RE.test(unit)) {
        s.problem('units', `"${unit}" is not a six-digit trading unit`, unitsHint);
      } else if (units.includes(unit)) {
        s.problem('units', `trading unit ${unit} is listed twice`, 'list each trading unit once');
      } else {
        units.push(unit);
      }
    }
  }
  return { id, units };
}

function readFiles(s: SectionReader): TwConfig['files'] {
  const dbfHint = (what: string): string =>
    `set the path of ${what}; its directory must exist (mount the share that holds the interface files, or correct the path; relative paths start at the directory of tw.ini)`;
  const need = (key: string, what: string): string => {
    if (s.required(key, `add ${key} = /path/to/${what}`) === undefined) return '';
    return s.path(key, 'directory-of', dbfHint(what)) ?? '';
  };
  const orders = need('orders', 'NQWT.DBF');
  const returns = need('returns', 'NQHB.DBF');
  if (orders !== '' && orders === returns) {
    s.problem(
      'returns',
      `is the same file as orders (${orders})`,
      'point returns at NQHB.DBF and orders at NQWT.DBF',
    );
  }
  const stateDir =
    s.path(
      'state_dir',
      'creatable-directory',
      'give a directory for the journal and lock (created if missing, but its parent must exist)',
      'state',
    ) ?? '';
  return { orders, returns, stateDir };
}

function readServers(s: SectionReader): ServerAddress[] {
  const byNumber = new Map<number, { addr?: ServerAddress; name?: string; line: number }>();
  for (const entry of s.ini?.entries.values() ?? []) {
    const m = SERVER_KEY_RE.exec(entry.key);
    if (!m) continue; // reported as an unknown key
    const n = Number(m[1]);
    const slot = byNumber.get(n) ?? { line: entry.line };
    byNumber.set(n, slot);
    if (m[2]) {
      if (entry.value !== '') slot.name = entry.value;
      continue;
    }
    slot.line = entry.line;
    if (entry.value === '') {
      s.problem(entry.key, 'is empty', 'write host:port, e.g. 172.50.101.30:7043, or delete the line');
      continue;
    }
    const r = checkHostPort(entry.value);
    if (!r.ok) {
      s.problem(entry.key, r.reason, 'write the main-station address as host:port, e.g. 172.50.101.30:7043');
    } else if (r.value.host === '0.0.0.0') {
      s.problem(entry.key, '"0.0.0.0" cannot be connected to', "write the main station's address");
    } else {
      slot.addr = { host: r.value.host, port: r.value.port, name: `server${n}` };
    }
  }

  const servers: ServerAddress[] = [];
  const seen = new Map<string, string>();
  for (const [n, slot] of [...byNumber.entries()].sort((a, b) => a[0] - b[0])) {
    if (slot.name !== undefined && !s.entry(`server${n}`)) {
      s.problem(
        `server${n}_name`,
        `names server${n}, which is not given`,
        `add server${n} = host:port, or delete the line`,
      );
      continue;
    }
    if (!slot.addr) continue;
    const addr = { ...slot.addr, name: slot.name ?? slot.addr.name };
    const key = `${addr.host}:${addr.port}`;
    const first = seen.get(key);
    if (first) {
      s.problem(`server${n}`, `${key} is already ${first}`, 'list each server once', slot.line);
      continue;
    }
    seen.set(key, `server${n}`);
    servers.push(addr);
  }
  if (byNumber.size === 0) {
    s.problem(
      null,
      s.ini
        ? 'no main-station server is given'
        : 'no main-station server is given (there is no [servers] section)',
      'add [servers] with server1 = host:port, e.g. server1 = 172.50.101.30:7043 (南方)',
    );
  }
  return servers;
}

function readTls(s: SectionReader): TlsSettings {
  const modeText = s.required('mode', `add mode = ekey (one of ${TLS_MODES.join(', ')})`);
  let mode: TlsMode = 'file';
  if (modeText !== undefined) {
    if ((TLS_MODES as readonly string[]).includes(modeText)) mode = modeText as TlsMode;
    else {
      s.problem(
        'mode',
        `"${modeText}" is not a TLS mode`,
        `write file (PEM key on disk), ekey (USB token) or soft (软加密 software certificate)`,
      );
    }
  }
  const isFile = modeText === 'file';
  const pathOf = (key: string, what: string): string => {
    const hint = `put ${what} there, or correct the path (relative paths start at the directory of tw.ini)`;
    if (isFile && s.value(key) === undefined) {
      s.required(key, `mode = file needs ${key} = path of ${what}`);
      return '';
    }
    return s.path(key, 'file', hint) ?? '';
  };
  const ca = pathOf('ca', "the main station's CA certificate (PEM)");
  const cert = pathOf('cert', "the station's certificate (PEM)");
  const key = pathOf('key', "the station's private key (PEM, mode 0600)");
  const serverName = s.value('server_name') ?? 'mainstation';
  return { mode, ca, cert, key, serverName };
}

function readLink(s: SectionReader): LinkSettings {
  const limit = MAIN_STATION_SILENCE_LIMIT_MS;
  const heartbeatMs = s.int('heartbeat_ms', 10_000, 100, limit - 1);
  const silenceMs = s.int(
    'silence_ms',
    20_000,
    300,
    limit - 1,
    `write a number of milliseconds below ${limit}: the main station drops a gateway after 30 s of silence, so give the link up before that (default 20000)`,
  );
  if (s.value('heartbeat_ms') !== undefined || s.value('silence_ms') !== undefined) {
    if (heartbeatMs >= silenceMs) {
      s.problem(
        s.value('heartbeat_ms') !== undefined ? 'heartbeat_ms' : 'silence_ms',
        `heartbeat_ms (${heartbeatMs}) is not below silence_ms (${silenceMs})`,
        'make heartbeat_ms smaller than silence_ms (defaults 10000 and 20000)',
      );
    }
  }
  const connectTimeoutMs = s.int('connect_timeout_ms', 5_000, 100, 120_000);
  const backoffInitialMs = s.int('backoff_initial_ms', 500, 10, 60_000);
  const backoffMaxMs = s.int('backoff_max_ms', 10_000, 10, 300_000);
  if (backoffMaxMs < backoffInitialMs) {
    s.problem(
      'backoff_max_ms',
      `${backoffMaxMs} is smaller than backoff_initial_ms (${backoffInitialMs})`,
      'make backoff_max_ms at least backoff_initial_ms',
    );
  }
  const primaryRetryS = s.int('primary_retry_s', 300, 10, 86_400);
  const answerTimeoutMs = s.int('answer_timeout_ms', 10_000, 1_000, 120_000);
  return {
    heartbeatMs,
    silenceMs,
    connectTimeoutMs,
    backoffInitialMs,
    backoffMaxMs,
    primaryRetryS,
    answerTimeoutMs,
  };
}

function readOptions(s: SectionReader, stateDir: string | undefined): GatewayOptions {
  const flagHint = (what: string): string =>
    `give the path of ${what} in a directory that exists, or leave the value empty to turn it off`;
  let autoExit: number | null = null;
  const autoExitText = s.value('auto_exit');
  if (autoExitText !== undefined) {
    const r = checkHhmm(autoExitText);
    if (r.ok) autoExit = r.value;
    else {
      s.problem(
        'auto_exit',
        r.reason,
        'write the exit time as HH:MM in China Standard Time, e.g. auto_exit = 15:40, or leave it empty',
      );
    }
  }
  return {
    noFills: s.bool('no_fills', false),
    linkDownFlag: s.path(
      'link_down_flag',
      'directory-of',
      flagHint('the link-down flag file'),
      undefined,
      stateDir,
    ),
    timeFile: s.path('time_file', 'directory-of', flagHint('the time file'), undefined, stateDir),
    timeFileIntervalS: s.int('time_file_interval_s', 5, 1, 3_600),
    autoExit,
    archiveOldReturns: s.bool('archive_old_returns', false),
    sendBlockWarnMs: s.int('send_block_warn_ms', 15_000, 100, 600_000),
    invalidFlagRetryS: s.int('invalid_flag_retry_s', 30, 1, 3_600),
  };
}

function readManagement(s: SectionReader, stateDir: string | undefined): ManagementSettings {
  const { host, port } = s.hostPort(
    'listen',
    '127.0.0.1:9300',
    'write the address the status page and API listen on as host:port, e.g. 127.0.0.1:9300',
  );
  const tokenFile =
    s.path(
      'token_file',
      'directory-of',
      'give the path of the API token file in a directory that exists',
      'api.token',
      stateDir,
    ) ?? '';
  const webhook = s.value('alert_webhook');
  if (webhook !== undefined && webhook !== '' && !/^https?:\/\/[^\s]+$/.test(webhook)) {
    // Only the start of the value: a webhook URL may carry a secret token in its path or query.
    s.problem(
      'alert_webhook',
      `not an http(s) URL: '${webhook.slice(0, 12)}${webhook.length > 12 ? '…' : ''}'`,
      'write the URL alerts are POSTed to, e.g. https://alerts.example/nqgw (or leave it out)',
    );
  }
  // A plain bool like the [options] ones, so `yes`/`on`/`1` work and a typo is a named problem
  // rather than a silent "no": a DR site that meant to enforce two-person duty must not run without it.
  const requireChecker = s.bool('require_checker', false);
  const tls = readManagementTls(s, host, stateDir);
  return {
    host,
    port,
    tokenFile,
    ...(webhook ? { alertWebhook: webhook } : {}),
    requireChecker,
    ...(tls ? { tls } : {}),
  };
}

function readExtra(ctx: ReadContext): Record<string, Record<string, string>> {
  const extra: Record<string, Record<string, string>> = {};
  for (const section of ctx.doc.sections.values()) {
    if (!isExtraSection(section.name)) continue;
    const values: Record<string, string> = {};
    for (const entry of section.entries.values()) values[entry.key] = entry.value;
    extra[section.name] = values;
  }
  return extra;
}
