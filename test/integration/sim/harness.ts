/**
 * Start a real simulator on loopback (ports 0) with a test PKI, a fixed CST trading day and its
 * log captured, and talk to it: TLS clients per certificate CN, admin calls over HTTP.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSimConfig, MainStationSimulator, type SimConfig } from '../../../appliance/src/sim/index.js';
import { MessageType } from '../../../appliance/src/link/messages.js';
import { TestClient } from './client.js';
import type { TestPki } from './certs.js';

/** 2026-11-23 10:00:00 CST, a Monday. */
export const DAY = '20261123';
const DAY_START = Date.UTC(2026, 10, 23, 2, 0, 0);

/** A clock that starts at 10:00 CST on DAY and runs at real speed. */
export function dayClock(): { now(): number } {
  const t0 = Date.now();
  return { now: () => DAY_START + (Date.now() - t0) };
}

export interface SimSettings {
  fillRule?: string;
  silenceS?: number;
  heartbeatS?: number;
  stateDir?: string;
}

export function simIni(pki: TestPki, s: SimSettings = {}): string {
  return [
    '[server]',
    'listen = 127.0.0.1:0',
    `ca = ${pki.ca}`,
    `cert = ${pki.serverCert}`,
    `key = ${pki.serverKey}`,
    `state_dir = ${s.stateDir ?? 'state'}`,
    `silence_s = ${s.silenceS ?? 30}`,
    `heartbeat_s = ${s.heartbeatS ?? 10}`,
    `fill_rule = ${s.fillRule ?? 'full'}`,
    '',
    '[admin]',
    'listen = 127.0.0.1:0',
    '',
    '[station.W888888T]',
    'units = 729900,729901',
    'cert_cn = W888888T',
    '',
    '[station.W777777T]',
    'units = 729800',
    '',
    '[securities]',
    'listed = 43,83,87',
    '',
  ].join('\n');
}

export class SimHarness {
  readonly lines: string[] = [];
  readonly clients: TestClient[] = [];
  sim: MainStationSimulator;

  private constructor(
    readonly dir: string,
    readonly pki: TestPki,
    readonly config: SimConfig,
    readonly clock: { now(): number },
  ) {
    this.sim = this.build();
  }

  static async start(pki: TestPki, settings: SimSettings = {}): Promise<SimHarness> {
    const dir = await mkdtemp(join(tmpdir(), 'sim-run-'));
    const ini = join(dir, 'sim.ini');
    await writeFile(ini, simIni(pki, settings));
    const h = new SimHarness(dir, pki, await loadSimConfig(ini), dayClock());
    await h.sim.start();
    return h;
  }

  private build(): MainStationSimulator {
    return new MainStationSimulator(this.config, { clock: this.clock, log: (line) => this.lines.push(line) });
  }

  /** Stop and start again on the same state_dir (new ports). */
  async restart(): Promise<void> {
    await this.sim.stop();
    this.sim = this.build();
    await this.sim.start();
  }

  async connect(cn = 'W888888T'): Promise<TestClient> {
    const files = this.pki.clients.get(cn);
    if (!files) throw new Error(`no client certificate for ${cn}`);
    const c = await TestClient.connect({ port: this.sim.port, ca: this.pki.ca, ...files });
    this.clients.push(c);
    return c;
  }

  /** Connect as W888888T (or `station`) and log on with its first unit; fail unless accepted. */
  async logon(station = 'W888888T', units = ['729900'], lastReturnSeq = 0): Promise<TestClient> {
    const c = await this.connect(station);
    const answer = await c.logonAndWait(station, units, lastReturnSeq);
    if (!answer.ok) throw new Error(`logon refused: ${answer.code} ${answer.text}`);
    await c.next(MessageType.MarketState);
    return c;
  }

  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read the JSON freely
  async admin(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; json: any }> {
    const res = await fetch(`http://127.0.0.1:${this.sim.adminPort}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: await res.json() };
  }

  async stop(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.close()));
    await this.sim.stop();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Poll until `check` is true (or fail after timeoutMs). */
export async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
