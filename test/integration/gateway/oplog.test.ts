import { afterEach, describe, expect, it } from 'vitest';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { makeLab, startLinked } from '../../helpers/lab.js';
import { REPO, type NqgwProcess } from '../../helpers/process.js';

const running: NqgwProcess[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
});

const OPLOG = pathToFileURL(path.join(REPO, 'dist/appliance/src/gateway/oplog.js')).href;

describe('operator log: the disk cannot stop the gateway', () => {
  it('a gateway.log that never takes a byte (a FIFO nobody reads) leaves the event loop running and a stop bounded', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nqgw-stuck-'));
    const file = path.join(dir, 'gateway.log');
    execFileSync('mkfifo', [file]);
    // A real process (the built module): a blocked write must not freeze the test runner itself.
    const script = `
      const { OperatorLog } = await import(${JSON.stringify(OPLOG)});
      const log = new OperatorLog({ clock: { now: () => Date.now() }, file: ${JSON.stringify(file)}, stdout: false });
      let ticks = 0;
      const timer = setInterval(() => ticks++, 10);
      for (let i = 0; i < 1000; i++) log.info('order path line ' + i, 'NQ209');
      await new Promise((r) => setTimeout(r, 300));
      clearInterval(timer);
      process.stdout.write('ticks ' + ticks + '\\n');
      const t0 = Date.now();
      const flushed = await log.close(500);
      process.stdout.write('close ' + flushed + ' after ' + (Date.now() - t0) + ' ms\\n');
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    const deadline = Date.now() + 15_000;
    while (!/close \w+ after/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(out, 'the writer blocked the process (appendFileSync on a stuck file)').toMatch(
      /close false after/,
    );
    // 300 ms of a 10 ms timer: the loop ran (a blocked loop gives 0).
    expect(Number(/ticks (\d+)/.exec(out)![1])).toBeGreaterThan(10);
    expect(Number(/after (\d+) ms/.exec(out)![1])).toBeLessThan(3000);
  });

  it('lines still queued when the process exits (process.exit, no flush) reach gateway.log', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nqgw-exit-'));
    const file = path.join(dir, 'gateway.log');
    const script = `
      const { OperatorLog } = await import(${JSON.stringify(OPLOG)});
      const log = new OperatorLog({ clock: { now: () => Date.now() }, file: ${JSON.stringify(file)}, stdout: false });
      for (let i = 1; i <= 500; i++) log.info('last words ' + i);
      process.exit(0);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore' });
    children.push(child);
    expect(await new Promise((r) => child.on('exit', r))).toBe(0);
    const lines = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l !== '');
    expect(lines.map((l) => Number(l.split(' ').at(-1)))).toEqual(
      Array.from({ length: 500 }, (_, i) => i + 1),
    );
  });

  it('nqgw run stopped by SIGTERM has every operator line it printed in gateway.log', async () => {
    const lab = await makeLab();
    const { gateway } = await startLinked(lab, running);
    expect(await gateway.stop('SIGTERM')).toBe(0);
    const printed = gateway.output
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { code?: string; text: string })
      .map((o) => `${o.code ? ` [${o.code}]` : ''} ${o.text}`);
    expect(printed.length).toBeGreaterThan(5);
    const lines = readFileSync(path.join(lab.stateDir, 'gateway.log'), 'utf8').split('\n');
    const missing = printed.filter((p) => !lines.some((l) => l.endsWith(p)));
    expect(missing).toEqual([]);
  });
});
