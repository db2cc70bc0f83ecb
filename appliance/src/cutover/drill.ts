/**
 * The drill's scratch site: a temp directory with an empty NQWT.DBF, no NQHB.DBF (the gateway
 * creates a fresh one), its own state directory and a tw.ini that points at them, with the same
 * station, servers, credentials, link settings and options as the real tw.ini. Everything the
 * drill gateway writes lands inside it (seed 002 §5.1: test data must not flow out, and is
 * cleared after the test): logs and spool under it and never shipped (no object store in the
 * scratch tw.ini: the real bucket and prefix get nothing), the API token and the soft ledger as
 * copies. Every path of the real tw.ini is made absolute against the real tw.ini's directory, as
 * the gateway resolves it, because the scratch tw.ini lives elsewhere. Removed when the drill ends.
 */
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TwConfig } from '../config/index.js';
import { createDbfFile, NQWT_LAYOUT } from '../dbf/index.js';
import { softSettingsFromConfig } from '../ekey/index.js';

export interface Scratch {
  dir: string;
  twIni: string;
  orders: string;
  returns: string;
  stateDir: string;
}

/** [logs] keys that would send the drill's logs to the real store, or name the real host there. */
const LOGS_DROPPED = new Set([
  'dir',
  'endpoint',
  'bucket',
  'prefix',
  'region',
  'access_key_id_file',
  'secret_access_key_file',
  'host',
  'archive_after',
  'keep_days',
]);
/** [ekey] keys holding paths (read only: the token's module, PIN file, OpenSSL engines). */
const EKEY_PATHS = new Set(['module', 'pin_file', 'engine_dir']);
/** [soft] keys holding files the drill only reads. */
const SOFT_READ = new Set(['pkcs12', 'pkcs12_passphrase_file']);

/**
 * The extra sections for the scratch tw.ini: paths absolute against the real tw.ini, [logs]
 * kept local to the scratch site and off the object store, [soft] reading the real calendar and
 * certificate but writing its ledger copy.
 */
export function scratchExtras(
  config: TwConfig,
  scratch: Pick<Scratch, 'stateDir'>,
): Record<string, Record<string, string>> {
  const base = path.dirname(config.source);
  const abs = (v: string): string =>
    v.trim() === '' || path.isAbsolute(v) ? v : path.resolve(base, v.trim());
  const out: Record<string, Record<string, string>> = {};
  for (const [section, entries] of Object.entries(config.extra)) {
    // [alerts] pages people (SMS, mail): a drill's outage is not theirs to hear of, as for alert_webhook.
    if (section === 'alerts') continue;
    const kept: Record<string, string> = {};
    for (const [k, v] of Object.entries(entries)) {
      if (section === 'logs' && LOGS_DROPPED.has(k)) continue;
      if (section === 'soft' && (k === 'ledger' || k === 'calendar_dir')) continue;
      kept[k] =
        (section === 'ekey' && EKEY_PATHS.has(k)) || (section === 'soft' && SOFT_READ.has(k)) ? abs(v) : v;
    }
    out[section] = kept;
  }
  out['logs'] = { ...(out['logs'] ?? {}), dir: path.join(scratch.stateDir, 'logs'), archive_after: '' };
  if (config.extra['soft'] !== undefined) {
    const soft = softSettingsFromConfig(config); // the real ledger and calendar, resolved as the gateway does
    out['soft'] = {
      ...out['soft'],
      ledger: path.join(scratch.stateDir, path.basename(soft.ledger)),
      calendar_dir: soft.calendarDir,
    };
  }
  return out;
}

function hhmm(minutes: number | null): string {
  if (minutes === null) return '';
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}`;
}

/** tw.ini text for the scratch site, from the real (already checked) configuration. */
export function scratchTwIni(config: TwConfig, scratch: Omit<Scratch, 'twIni' | 'dir'>): string {
  const o = config.options;
  const l = config.link;
  const lines = [
    `; nqgw cutover --drill: scratch copy of ${config.source}; deleted when the drill ends`,
    '[station]',
    `id = ${config.station.id}`,
    `units = ${config.station.units.join(',')}`,
    '',
    '[files]',
    `orders = ${scratch.orders}`,
    `returns = ${scratch.returns}`,
    `state_dir = ${scratch.stateDir}`,
    '',
    '[servers]',
    ...config.servers.flatMap((s, i) => [
      `server${i + 1} = ${s.host}:${s.port}`,
      `server${i + 1}_name = ${s.name}`,
    ]),
    '',
    '[tls]',
    `mode = ${config.tls.mode}`,
    `ca = ${config.tls.ca}`,
    `cert = ${config.tls.cert}`,
    `key = ${config.tls.key}`,
    `server_name = ${config.tls.serverName}`,
    '',
    '[link]',
    `heartbeat_ms = ${l.heartbeatMs}`,
    `silence_ms = ${l.silenceMs}`,
    `connect_timeout_ms = ${l.connectTimeoutMs}`,
    `backoff_initial_ms = ${l.backoffInitialMs}`,
    `backoff_max_ms = ${l.backoffMaxMs}`,
    `primary_retry_s = ${l.primaryRetryS}`,
    '',
    '[options]',
    `no_fills = ${o.noFills}`,
    // Flag and time files go to the scratch site: the broker's side must not see a drill.
    `link_down_flag = ${o.linkDownFlag === null ? '' : path.join(scratch.stateDir, path.basename(o.linkDownFlag))}`,
    `time_file = ${o.timeFile === null ? '' : path.join(scratch.stateDir, path.basename(o.timeFile))}`,
    `time_file_interval_s = ${o.timeFileIntervalS}`,
    `auto_exit = ${hhmm(o.autoExit)}`,
    'archive_old_returns = false',
    `send_block_warn_ms = ${o.sendBlockWarnMs}`,
    `invalid_flag_retry_s = ${o.invalidFlagRetryS}`,
    '',
    '[management]',
    `listen = ${config.management.host}:${config.management.port}`,
    // A copy: the gateway creates the token file when it is missing, and must not do so in the real place.
    `token_file = ${path.join(scratch.stateDir, path.basename(config.management.tokenFile))}`,
  ];
  for (const [section, entries] of Object.entries(scratchExtras(config, scratch))) {
    lines.push('', `[${section}]`, ...Object.entries(entries).map(([k, v]) => `${k} = ${v}`));
  }
  return `${lines.join('\n')}\n`;
}

/** Copy `from` to `to` (0600) when it exists: what the drill gateway may change, it changes a copy of. */
function copyIfPresent(from: string, to: string): void {
  if (!existsSync(from)) return;
  copyFileSync(from, to);
}

export async function makeScratch(config: TwConfig): Promise<Scratch> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nqgw-drill-'));
  const files = {
    orders: path.join(dir, 'NQWT.DBF'),
    returns: path.join(dir, 'NQHB.DBF'),
    stateDir: path.join(dir, 'state'),
  };
  try {
    await createDbfFile(files.orders, NQWT_LAYOUT);
    mkdirSync(files.stateDir, { recursive: true, mode: 0o700 });
    copyIfPresent(
      config.management.tokenFile,
      path.join(files.stateDir, path.basename(config.management.tokenFile)),
    );
    if (config.extra['soft'] !== undefined) {
      const ledger = softSettingsFromConfig(config).ledger;
      copyIfPresent(ledger, path.join(files.stateDir, path.basename(ledger)));
    }
    const twIni = path.join(dir, 'tw.ini');
    writeFileSync(twIni, scratchTwIni(config, files), { mode: 0o600 });
    return { dir, twIni, ...files };
  } catch (err) {
    removeScratch(dir);
    throw err;
  }
}

/** Every file under the scratch site, relative, with its size: what the drill created. */
export function listScratch(dir: string): { files: string[]; bytes: number } {
  const files: string[] = [];
  let bytes = 0;
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else {
        files.push(path.relative(dir, full));
        try {
          bytes += statSync(full).size;
        } catch {
          // gone in between (the stopping gateway's last files): counted by name only
        }
      }
    }
  };
  try {
    walk(dir);
  } catch {
    // nothing there
  }
  return { files: files.sort(), bytes };
}

/** Remove the scratch site; true when it is gone. */
export function removeScratch(dir: string): boolean {
  rmSync(dir, { recursive: true, force: true });
  return !existsSync(dir);
}
