import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initLab, type LabDescription, type LabOptions } from '../../appliance/src/lab/index.js';
import { NqgwProcess, waitUntil } from './process.js';

/** A fresh loopback lab in a temp dir. */
export async function makeLab(options: LabOptions = {}): Promise<LabDescription> {
  return initLab(mkdtempSync(path.join(os.tmpdir(), 'nqgw-lab-')), options);
}

/** Set `key = value` in `[section]` of an INI file (added if missing). */
export function setIni(file: string, section: string, key: string, value: string): void {
  const lines = readFileSync(file, 'utf8').split('\n');
  const start = lines.findIndex((l) => l.trim() === `[${section}]`);
  if (start < 0) {
    lines.push(`[${section}]`, `${key} = ${value}`);
  } else {
    let end = lines.findIndex((l, i) => i > start && l.trim().startsWith('['));
    if (end < 0) end = lines.length;
    const at = lines.findIndex((l, i) => i > start && i < end && l.split('=')[0]!.trim() === key);
    if (at >= 0) lines[at] = `${key} = ${value}`;
    else lines.splice(start + 1, 0, `${key} = ${value}`);
  }
  writeFileSync(file, lines.join('\n'));
}

export class SimAdmin {
  constructor(readonly url: string) {}

  async get<T = Record<string, unknown>>(route: string): Promise<T> {
    const res = await fetch(`${this.url}${route}`);
    if (!res.ok) throw new Error(`GET ${route}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  async post(route: string, body: unknown = {}): Promise<unknown> {
    const res = await fetch(`${this.url}${route}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`POST ${route}: ${res.status} ${await res.text()}`);
    return res.json();
  }

  station(id: string): Promise<{
    connected: boolean;
    ordersTaken: number;
    duplicatesDropped: number;
    rejected: number;
    returns: number;
    /** The last return sequence the gateway acknowledged: written to NQHB.DBF and synced. */
    lastAcked: number;
  }> {
    return this.get(`/stations/${id}`);
  }

  orders(id: string): Promise<{ JYDY: string; LSH: string; possDup: boolean; recNo: number }[]> {
    return this.get(`/stations/${id}/orders`);
  }
}

export function startSim(lab: LabDescription): NqgwProcess {
  return new NqgwProcess(['sim', '--config', lab.simIni]);
}

export function startGateway(lab: LabDescription, env: NodeJS.ProcessEnv = {}): NqgwProcess {
  return new NqgwProcess(['run', '--config', lab.twIni], env);
}

export async function simReady(lab: LabDescription): Promise<SimAdmin> {
  const admin = new SimAdmin(lab.sim.adminUrl);
  await waitUntil(() => admin.station(lab.station).then(() => true), 'simulator admin API');
  return admin;
}

/**
 * The lab's simulator up and a gateway logged on to it (登录成功). Both processes go
 * on `running`, for the caller's afterEach to stop.
 */
export async function startLinked(
  lab: LabDescription,
  running: NqgwProcess[],
): Promise<{ admin: SimAdmin; gateway: NqgwProcess }> {
  running.push(startSim(lab));
  const admin = await simReady(lab);
  const gateway = startGateway(lab);
  running.push(gateway);
  // Logged on, not only connected: 小站端与服务器连接成功 comes with the TLS connection, before the
  // main station has answered the logon (and before the simulator counts a live session).
  await gateway.waitFor(/登录成功/);
  return { admin, gateway };
}
