/**
 * sim.ini: the settings of the main-station simulator (INI; `;` or `#` start a comment; keys are
 * lower-case; relative paths are resolved against the directory of sim.ini).
 *
 *   [server]
 *   listen = 127.0.0.1:7043        ; TLS listener; port 0 = any free port (see simulator.port)
 *   ca = ca.pem                    ; CA that signs the stations' client certificates
 *   cert = server.crt              ; the main station's certificate (PEM)
 *   key = server.key               ; and its key (PEM)
 *   state_dir = state              ; append-only state log (sim-state.jsonl)
 *   silence_s = 30                 ; drop a station silent this long ("Client maybe quit, so I quit!")
 *   heartbeat_s = 10               ; send a Heartbeat this often
 *   fill_rule = full               ; full | half | confirm | none (see rules.ts)
 *   market = OPEN                  ; market state at first start (later changes are in the state log)
 *
 *   [admin]
 *   listen = 127.0.0.1:7044        ; HTTP admin API, loopback only; port 0 = any free port
 *
 *   [station.W888888T]             ; one section per station (小站号)
 *   units = 729900,729901          ; its trading units (交易单元), six digits each
 *   cert_cn = W888888T             ; subject CN its client certificate must carry (default: the id)
 *
 *   [securities]
 *   listed = 43,83,87              ; code prefixes taken as listed (every six-digit code starting so)
 *
 * Seconds may be fractional (tests use `silence_s = 0.5`). Any mistake is a SimConfigError that
 * names the file and the line.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { AppError } from '../shared/index.js';
import { parseIni, type IniDocument, type IniEntry } from '../config/index.js';

export type FillRule = 'full' | 'half' | 'confirm' | 'none';

export interface ListenAddress {
  host: string;
  port: number;
}

export interface StationConfig {
  id: string;
  units: string[];
  certCn: string;
}

export interface SimConfig {
  file: string;
  listen: ListenAddress;
  ca: string;
  cert: string;
  key: string;
  stateDir: string;
  silenceMs: number;
  heartbeatMs: number;
  fillRule: FillRule;
  market: string;
  admin: ListenAddress;
  stations: Map<string, StationConfig>;
  listedPrefixes: string[];
}

/** A sim.ini that cannot be used; `file` and `line` say where (line 0: the file as a whole). */
export class SimConfigError extends AppError {
  constructor(
    readonly file: string,
    readonly line: number,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      'SIM_CONFIG',
      `${file}${line > 0 ? `:${line}` : ''}: ${detail}`,
      'fix sim.ini and start again',
      options,
    );
  }
}

const FILL_RULES: readonly FillRule[] = ['full', 'half', 'confirm', 'none'];
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

class Reader {
  constructor(readonly doc: IniDocument) {}

  fail(line: number, detail: string): never {
    throw new SimConfigError(this.doc.file, line, detail);
  }

  entry(section: string, key: string): IniEntry | undefined {
    return this.doc.sections.get(section)?.entries.get(key);
  }

  required(section: string, key: string): IniEntry {
    const e = this.entry(section, key);
    if (!e || e.value === '') {
      this.fail(this.doc.sections.get(section)?.line ?? 0, `[${section}] ${key} is required`);
    }
    return e;
  }

  listen(section: string, fallback: string): ListenAddress {
    const e = this.entry(section, 'listen');
    const text = e?.value || fallback;
    const m = /^(\[[0-9a-fA-F:]+\]|[^:\s]+):(\d{1,5})$/.exec(text);
    const port = m ? Number(m[2]) : NaN;
    if (!m || port > 65535) this.fail(e?.line ?? 0, `[${section}] listen must be host:port, not '${text}'`);
    return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
  }

  seconds(section: string, key: string, fallback: number): number {
    const e = this.entry(section, key);
    if (!e) return fallback * 1000;
    const n = Number(e.value);
    if (!/^\d+(\.\d+)?$/.test(e.value) || !(n > 0))
      this.fail(e.line, `[${section}] ${key} must be a positive number of seconds`);
    return Math.round(n * 1000);
  }
}

export function parseSimConfig(text: string, file: string): SimConfig {
  const doc = parseIni(text, file);
  const r = new Reader(doc);
  const bad = doc.malformed[0];
  if (bad) r.fail(bad.line, `cannot read '${bad.text.trim()}' (expected [section] or key = value)`);
  const dup = doc.duplicates[0];
  if (dup) r.fail(dup.line, `[${dup.section}] ${dup.key} is given twice`);
  const known = new Set(['', 'server', 'admin', 'securities']);
  for (const s of doc.sections.values()) {
    if (s.name === '' && s.entries.size > 0) {
      const first = [...s.entries.values()][0]!;
      r.fail(first.line, `'${first.key}' is outside any section`);
    }
    if (!known.has(s.name) && !s.name.startsWith('station.')) r.fail(s.line, `unknown section [${s.name}]`);
  }
  const base = dirname(resolve(file));
  const path = (key: string): string => resolve(base, r.required('server', key).value);

  const fillEntry = r.entry('server', 'fill_rule');
  const fillRule = (fillEntry?.value ?? 'full') as FillRule;
  if (!FILL_RULES.includes(fillRule)) {
    r.fail(fillEntry?.line ?? 0, `[server] fill_rule must be one of ${FILL_RULES.join(', ')}`);
  }
  const admin = r.listen('admin', '127.0.0.1:7044');
  if (!LOOPBACK.has(admin.host)) {
    r.fail(
      r.entry('admin', 'listen')?.line ?? 0,
      `[admin] listen must be a loopback address, not '${admin.host}'`,
    );
  }

  const stations = new Map<string, StationConfig>();
  const unitOwner = new Map<string, string>();
  for (const s of doc.sections.values()) {
    if (!s.name.startsWith('station.')) continue;
    // Section names are lower-cased by the INI reader; station ids are upper case (W888888T).
    const id = s.name.slice('station.'.length).toUpperCase();
    if (!/^[A-Z0-9]{1,16}$/.test(id)) r.fail(s.line, `station id '${id}' must be letters and digits`);
    const unitsEntry = r.required(s.name, 'units');
    const units = unitsEntry.value.split(',').map((u) => u.trim());
    for (const u of units) {
      if (!/^\d{6}$/.test(u)) r.fail(unitsEntry.line, `trading unit '${u}' must be six digits`);
      const owner = unitOwner.get(u);
      if (owner !== undefined)
        r.fail(unitsEntry.line, `trading unit ${u} already belongs to station ${owner}`);
      unitOwner.set(u, id);
    }
    const cn = s.entries.get('cert_cn')?.value;
    stations.set(id, { id, units, certCn: cn === undefined || cn === '' ? id : cn });
  }
  if (stations.size === 0) r.fail(0, 'no [station.<id>] section');

  const listedEntry = r.entry('securities', 'listed');
  const listedPrefixes = (listedEntry?.value ?? '43,83,87').split(',').map((p) => p.trim());
  for (const p of listedPrefixes) {
    if (!/^\d{1,6}$/.test(p)) r.fail(listedEntry?.line ?? 0, `listed prefix '${p}' must be 1 to 6 digits`);
  }

  return {
    file,
    listen: r.listen('server', '127.0.0.1:7043'),
    ca: path('ca'),
    cert: path('cert'),
    key: path('key'),
    stateDir: resolve(base, r.entry('server', 'state_dir')?.value || 'state'),
    silenceMs: r.seconds('server', 'silence_s', 30),
    heartbeatMs: r.seconds('server', 'heartbeat_s', 10),
    fillRule,
    market: r.entry('server', 'market')?.value || 'OPEN',
    admin,
    stations,
    listedPrefixes,
  };
}

export async function loadSimConfig(path: string): Promise<SimConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new SimConfigError(path, 0, `cannot read the file (${(err as Error).message})`, { cause: err });
  }
  return parseSimConfig(text, path);
}
