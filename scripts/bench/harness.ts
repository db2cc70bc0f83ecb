import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLBZ, decodeOrder, decodeReturn, NQHB_LAYOUT, NQWT_LAYOUT } from '../../appliance/src/dbf/index.js';
import { initLab, type LabDescription, type LabOptions } from '../../appliance/src/lab/index.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const NQGW = path.join(REPO, 'bin', 'nqgw.js');

/** Real simulator and gateway processes on a fresh loopback lab, as in production. */
export interface BenchLab {
  lab: LabDescription;
  sim: ChildProcess;
  gateway: ChildProcess | null;
  startGateway(): Promise<number>;
  stop(): Promise<void>;
}

function setKey(file: string, section: string, key: string, value: string): string {
  const text = readFileSync(file, 'utf8');
  const re = new RegExp(`(\\[${section}\\][^\\[]*?)^${key} = .*$`, 'm');
  return re.test(text)
    ? text.replace(re, `$1${key} = ${value}`)
    : text.replace(`[${section}]`, `[${section}]\n${key} = ${value}`);
}

async function until(probe: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`bench: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export async function benchLab(
  prepare?: (lab: LabDescription) => Promise<void>,
  options: LabOptions = {},
): Promise<BenchLab> {
  const lab = await initLab(mkdtempSync(path.join(os.tmpdir(), 'nqgw-bench-')), options);
  const { writeFileSync } = await import('node:fs');
  // One return per order (a confirmation): the figure is orders, not rows.
  writeFileSync(lab.simIni, setKey(lab.simIni, 'server', 'fill_rule', 'confirm'));
  if (prepare) await prepare(lab);
  const quiet = { stdio: ['ignore', 'ignore', 'inherit'] as ['ignore', 'ignore', 'inherit'] };
  const sim = spawn(process.execPath, [NQGW, 'sim', '--config', lab.simIni], quiet);
  await until(async () => {
    try {
      return (await fetch(`${lab.sim.adminUrl}/stations/${lab.station}`)).ok;
    } catch {
      return false;
    }
  }, 'simulator');
  const bench: BenchLab = {
    lab,
    sim,
    gateway: null,
    async startGateway() {
      const started = Date.now();
      bench.gateway = spawn(process.execPath, [NQGW, 'run', '--config', lab.twIni], quiet);
      await until(
        () => {
          try {
            const s = JSON.parse(readFileSync(path.join(lab.stateDir, 'status.json'), 'utf8')) as {
              linkState: string;
              pid: number;
            };
            return s.linkState === '正常' && s.pid === bench.gateway?.pid;
          } catch {
            return false;
          }
        },
        'gateway logon',
        120_000,
      );
      return Date.now() - started;
    },
    async stop() {
      for (const p of [bench.gateway, sim]) {
        if (!p || p.exitCode !== null) continue;
        p.kill('SIGTERM');
        await new Promise((r) => p.once('exit', r));
      }
    },
  };
  return bench;
}

/** Peak resident set of a process (VmHWM), in MB. */
export function peakRssMb(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : NaN;
}

/**
 * Watches NQWT.DBF for CLBZ turning '1' (the gateway sets it right after the batch went into the
 * TLS socket: "on the wire") and NQHB.DBF for new rows, by polling with positioned reads.
 */
export class FileWatcher {
  readonly flaggedAt = new Map<string, number>();
  readonly answeredAt = new Map<string, number>();
  rows = 0;
  private nextReturn = 1;

  /** `firstOrder`: the first NQWT record to watch (records before it are not the benchmark's). */
  constructor(
    private readonly lab: LabDescription,
    private nextOrder = 1,
  ) {}

  async poll(): Promise<void> {
    const now = performance.now();
    const orders = await open(this.lab.orders, 'r');
    try {
      const { size } = await orders.stat();
      const L = NQWT_LAYOUT.recordLength;
      const total = Math.floor((size - NQWT_LAYOUT.headerLength) / L);
      if (total >= this.nextOrder) {
        const count = total - this.nextOrder + 1;
        const buf = Buffer.alloc(count * L);
        await orders.read(buf, 0, buf.length, NQWT_LAYOUT.headerLength + (this.nextOrder - 1) * L);
        let advanced = true;
        for (let i = 0; i < count; i++) {
          const row = decodeOrder(buf, i * L);
          if (row.CLBZ === CLBZ.SENT) {
            if (!this.flaggedAt.has(row.LSH)) this.flaggedAt.set(row.LSH, now);
            if (advanced) this.nextOrder++;
          } else advanced = false;
        }
      }
    } finally {
      await orders.close();
    }
    const returns = await open(this.lab.returns, 'r').catch(() => null);
    if (!returns) return;
    try {
      const { size } = await returns.stat();
      const L = NQHB_LAYOUT.recordLength;
      const total = Math.floor((size - NQHB_LAYOUT.headerLength) / L);
      if (total >= this.nextReturn) {
        const count = total - this.nextReturn + 1;
        const buf = Buffer.alloc(count * L);
        await returns.read(buf, 0, buf.length, NQHB_LAYOUT.headerLength + (this.nextReturn - 1) * L);
        for (let i = 0; i < count; i++) {
          const row = decodeReturn(buf, i * L);
          if (row.HBLB === '0') this.answeredAt.set(row.LSH, now);
        }
        this.nextReturn += count;
        this.rows += count;
      }
    } finally {
      await returns.close();
    }
  }
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

export const round = (n: number, d = 1): number => Math.round(n * 10 ** d) / 10 ** d;
