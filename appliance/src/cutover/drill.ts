/**
 * The drill's scratch site: a temp directory with an empty NQWT.DBF, no NQHB.DBF (the gateway
 * creates a fresh one), its own state directory and a tw.ini that points at them, with the same
 * station, servers, credentials, link settings and options as the real tw.ini. The real interface
 * files and state are never opened for writing. Removed when the drill ends.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TwConfig } from '../config/index.js';
import { createDbfFile, NQWT_LAYOUT } from '../dbf/index.js';

export interface Scratch {
  dir: string;
  twIni: string;
  orders: string;
  returns: string;
  stateDir: string;
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
    `token_file = ${config.management.tokenFile}`,
  ];
  for (const [section, entries] of Object.entries(config.extra)) {
    lines.push('', `[${section}]`, ...Object.entries(entries).map(([k, v]) => `${k} = ${v}`));
  }
  return `${lines.join('\n')}\n`;
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
    const twIni = path.join(dir, 'tw.ini');
    writeFileSync(twIni, scratchTwIni(config, files), { mode: 0o600 });
    return { dir, twIni, ...files };
  } catch (err) {
    removeScratch(dir);
    throw err;
  }
}

export function removeScratch(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
