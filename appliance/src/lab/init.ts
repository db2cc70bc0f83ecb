import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { createDbfFile, NQWT_LAYOUT } from '../dbf/index.js';
import { AppError } from '../shared/index.js';
import { LAB_SERVER_NAME, makeLabPki, type LabPki } from './certs.js';
import {
  checkEkeyLabDir,
  findSofthsmParts,
  LAB_EKEY_KINDS,
  renderLabEkeySection,
  setupSofthsmToken,
  type LabEkey,
  type LabEkeyKind,
} from './softhsm.js';

/**
 * `nqgw lab init DIR`: a complete loopback lab in one folder - PKI, tw.ini for the gateway,
 * sim.ini for the simulator, an empty NQWT.DBF and lab.json describing it all. lab.json is the
 * interface other tools and checks read; keep its names stable.
 */
export interface LabDescription {
  dir: string;
  station: string;
  units: string[];
  twIni: string;
  simIni: string;
  orders: string;
  returns: string;
  stateDir: string;
  simStateDir: string;
  sim: { host: string; port: number; adminPort: number; adminUrl: string };
  management: { host: string; port: number; url: string; tokenFile: string };
  pki: LabPki;
  serverName: string;
  /** Present when the station key is on a token (`--ekey softhsm`); pki.stationKey is then gone. */
  ekey?: LabEkey;
}

export interface LabOptions {
  station?: string;
  units?: string[];
  /** Fixed ports instead of free ones picked now (tests pass their own). */
  ports?: { sim: number; admin: number; management: number };
  /** Object storage for the [logs] section (issue 6); without it shipping is off. */
  s3?: { endpoint: string; bucket: string };
  /** The station's key on a SoftHSM2 token, tw.ini in `[tls] mode = ekey`. */
  ekey?: LabEkeyKind;
  /** Write over a lab already in the directory (new ports, PKI, tw.ini); refused without it. */
  force?: boolean;
}

/** The files that make a directory a lab: writing over them changes ports and certificates. */
const LAB_FILES = ['lab.json', 'tw.ini', 'sim.ini'] as const;

/** `lab init` over an existing lab without --force (NQ915): it would change what others point at. */
export class LabExistsError extends AppError {
  constructor(dir: string, found: string[]) {
    super(
      'NQ915',
      `${dir} already holds a lab (${found.join(', ')}): lab init would give it new ports, certificates and tw.ini`,
      `use a new directory, or add --force to rewrite it (stop the gateway and simulator running from it first)`,
    );
  }
}

/** Refuse to write over a lab unless forced; a new or unrelated directory is fine. */
function checkNotALab(dir: string, force: boolean | undefined): void {
  if (force) return;
  const found = LAB_FILES.filter((f) => existsSync(path.join(dir, f)));
  if (found.length > 0) throw new LabExistsError(dir, found);
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export async function initLab(dirArg: string, options: LabOptions = {}): Promise<LabDescription> {
  const dir = path.resolve(dirArg);
  checkNotALab(dir, options.force);
  if (options.ekey === undefined) return writeLab(dir, options);
  if (!(LAB_EKEY_KINDS as readonly string[]).includes(options.ekey)) {
    throw new AppError(
      'NQ902',
      `lab init --ekey ${String(options.ekey)}: unknown kind`,
      'Use --ekey softhsm.',
    );
  }
  // All checks before the first write, and on a later failure the directory (new or empty, as
  // checked) is emptied again: no half-made lab that looks usable.
  checkEkeyLabDir(dir);
  const parts = findSofthsmParts();
  const existed = existsSync(dir);
  try {
    return await writeLab(dir, options, (lab) => setupSofthsmToken(dir, lab.station, lab.pki, parts));
  } catch (err) {
    if (!existed) rmSync(dir, { recursive: true, force: true });
    else for (const f of readdirSync(dir)) rmSync(path.join(dir, f), { recursive: true, force: true });
    throw err;
  }
}

async function writeLab(
  dir: string,
  options: LabOptions,
  onToken?: (lab: LabDescription) => LabEkey,
): Promise<LabDescription> {
  const station = options.station ?? 'W888888T';
  const units = options.units ?? ['729900', '729901'];
  mkdirSync(dir, { recursive: true });
  const ports = options.ports ?? {
    sim: await freePort(),
    admin: await freePort(),
    management: await freePort(),
  };
  // RSA when the key goes on a token: the EKey certificate check reads RSA keys only.
  const pki = makeLabPki(path.join(dir, 'pki'), station, onToken ? 'rsa' : 'ec');
  const lab: LabDescription = {
    dir,
    station,
    units,
    twIni: path.join(dir, 'tw.ini'),
    simIni: path.join(dir, 'sim.ini'),
    orders: path.join(dir, 'NQWT.DBF'),
    returns: path.join(dir, 'NQHB.DBF'),
    stateDir: path.join(dir, 'state'),
    simStateDir: path.join(dir, 'sim-state'),
    sim: {
      host: '127.0.0.1',
      port: ports.sim,
      adminPort: ports.admin,
      adminUrl: `http://127.0.0.1:${ports.admin}`,
    },
    management: {
      host: '127.0.0.1',
      port: ports.management,
      url: `http://127.0.0.1:${ports.management}`,
      tokenFile: path.join(dir, 'api.token'),
    },
    pki,
    serverName: LAB_SERVER_NAME,
  };
  if (onToken) lab.ekey = onToken(lab);
  mkdirSync(lab.stateDir, { recursive: true, mode: 0o700 });
  mkdirSync(lab.simStateDir, { recursive: true, mode: 0o700 });
  if (!existsSync(lab.orders)) await createDbfFile(lab.orders, NQWT_LAYOUT);
  if (!existsSync(lab.management.tokenFile)) {
    writeFileSync(lab.management.tokenFile, `${randomBytes(24).toString('hex')}\n`, { mode: 0o600 });
  }
  const ekeySection = lab.ekey ? renderLabEkeySection(lab.ekey, rel(lab, lab.ekey.pinFile)) : '';
  writeFileSync(lab.twIni, renderLabTwIni(lab) + ekeySection + renderLabLogsSection(lab, options.s3));
  writeFileSync(lab.simIni, renderLabSimIni(lab));
  writeFileSync(path.join(dir, 'lab.json'), `${JSON.stringify(lab, null, 2)}\n`);
  return lab;
}

function rel(lab: LabDescription, file: string): string {
  return path.relative(lab.dir, file);
}

export function renderLabTwIni(lab: LabDescription): string {
  return `; tw.ini of the nqgw loopback lab (nqgw lab init). Paths are relative to this file.
[station]
id = ${lab.station}
units = ${lab.units.join(',')}

[files]
orders = ${rel(lab, lab.orders)}
returns = ${rel(lab, lab.returns)}
state_dir = ${rel(lab, lab.stateDir)}

[servers]
server1 = ${lab.sim.host}:${lab.sim.port}

[tls]
${tlsLines(lab)}
server_name = ${lab.serverName}

[link]
heartbeat_ms = 10000
silence_ms = 20000

[options]
no_fills = false
link_down_flag = ${rel(lab, path.join(lab.stateDir, 'LINKDOWN.FLG'))}
time_file = ${rel(lab, path.join(lab.stateDir, 'TIME.TXT'))}
time_file_interval_s = 5

[management]
listen = ${lab.management.host}:${lab.management.port}
token_file = ${rel(lab, lab.management.tokenFile)}
`;
}

/** File mode: the PEM key. EKey mode: only the CA here; the key and certificate are on the token. */
function tlsLines(lab: LabDescription): string {
  if (lab.ekey) return `mode = ekey\nca = ${rel(lab, lab.pki.caCert)}`;
  return `mode = file\nca = ${rel(lab, lab.pki.caCert)}\ncert = ${rel(lab, lab.pki.stationCert)}\nkey = ${rel(lab, lab.pki.stationKey)}`;
}

export function renderLabSimIni(lab: LabDescription): string {
  return `; sim.ini of the nqgw loopback lab: the main-station simulator.
[server]
listen = ${lab.sim.host}:${lab.sim.port}
ca = ${rel(lab, lab.pki.caCert)}
cert = ${rel(lab, lab.pki.serverCert)}
key = ${rel(lab, lab.pki.serverKey)}
state_dir = ${rel(lab, lab.simStateDir)}
silence_s = 30
heartbeat_s = 10
fill_rule = full

[admin]
listen = ${lab.sim.host}:${lab.sim.adminPort}

[station.${lab.station}]
units = ${lab.units.join(',')}
cert_cn = ${lab.station}

[securities]
listed = 43,83,87
`;
}

/** [logs]: local structured logs, and shipping when a store is given (s3rver's fixed keys, 0600). */
function renderLabLogsSection(lab: LabDescription, s3: LabOptions['s3']): string {
  const head = `\n[logs]\ndir = ${rel(lab, path.join(lab.stateDir, 'logs'))}\nsegment_max_s = 60\n`;
  if (!s3) return head;
  for (const name of ['s3.key-id', 's3.secret']) {
    writeFileSync(path.join(lab.dir, name), 'S3RVER\n', { mode: 0o600 });
  }
  const keys = 'access_key_id_file = s3.key-id\nsecret_access_key_file = s3.secret\n';
  return `${head}endpoint = ${s3.endpoint}\nbucket = ${s3.bucket}\nprefix = nqgw\n${keys}`;
}
