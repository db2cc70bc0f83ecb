import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Command } from 'commander';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { registerClockCommands, runClockCheck, CLOCK_EXIT } from '../../../appliance/src/cli/clock.js';
import { SntpResponder } from './responder.js';

/** `nqgw clock check` against scripted servers: the report, the JSON and the exit codes. */
const a = new SntpResponder();
const b = new SntpResponder();
let dir: string;

beforeAll(async () => {
  await a.start();
  await b.start();
  dir = mkdtempSync(join(tmpdir(), 'nqgw-clock-cli-'));
  for (const f of ['ca.pem', 'station.crt', 'station.key'])
    writeFileSync(join(dir, f), 'PEM\n', { mode: 0o600 });
});
afterAll(async () => {
  await a.stop();
  await b.stop();
  rmSync(dir, { recursive: true, force: true });
});

function capture(): { out: string[]; err: string[]; io: { out(l: string): void; err(l: string): void } } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l) => out.push(l), err: (l) => err.push(l) } };
}

function twIni(clock: string[]): string {
  const path = join(dir, `tw-${Math.random().toString(36).slice(2)}.ini`);
  writeFileSync(
    path,
    [
      '[station]',
      'id = W888888T',
      'units = 729900',
      '[files]',
      'orders = NQWT.DBF',
      'returns = NQHB.DBF',
      '[servers]',
      'server1 = 127.0.0.1:7043',
      '[tls]',
      'mode = file',
      'ca = ca.pem',
      'cert = station.crt',
      'key = station.key',
      '[clock]',
      ...clock,
      '',
    ].join('\n'),
  );
  return path;
}

const noChrony = { chronyReader: { command: 'chronyc-not-installed-here' } };

describe('nqgw clock check', () => {
  it.each([
    [20, 'ok', 0],
    [60, 'warn', 1],
    [101, 'alarm', 2],
    [-250, 'alarm', 2],
  ] as const)('offset %s ms: verdict %s, exit %s', async (offset, verdict, code) => {
    a.set({ mode: 'normal', offsetMs: offset });
    b.set({ mode: 'normal', offsetMs: offset });
    const c = capture();
    const exit = await runClockCheck(
      { server: [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`] },
      c.io,
      noChrony,
    );
    expect(exit).toBe(code);
    expect(c.out[0]).toMatch(/^time server\s+offset\s+delay\s+error bound\s+stratum\s+refid$/);
    expect(c.out[1]).toContain(`127.0.0.1:${a.port}`);
    expect(c.out[1]).toMatch(/[+-]\d+\.\d{3} ms/);
    expect(c.out.at(-1)).toMatch(
      new RegExp(
        `^verdict: ${verdict.toUpperCase()}  offset [+-]\\d+\\.\\d{3} ms ± \\d+\\.\\d{3} ms from 2 of 2 servers`,
      ),
    );
  });

  it('no server answers: verdict UNKNOWN, exit 3, each failure on its line', async () => {
    a.set({ mode: 'silent' });
    b.set({ mode: 'kiss', kissCode: 'RATE' });
    const c = capture();
    const exit = await runClockCheck(
      { server: [`127.0.0.1:${a.port},127.0.0.1:${b.port}`], timeout: '200' },
      c.io,
      noChrony,
    );
    expect(exit).toBe(CLOCK_EXIT.unknown);
    expect(c.out[1]).toContain('CLOCK_TIMEOUT');
    expect(c.out[2]).toContain('CLOCK_KISS: time server 127.0.0.1:' + b.port + " sent kiss-o'-death RATE");
    expect(
      c.out.some((l) => l.startsWith('chrony: unavailable: chronyc-not-installed-here is not installed')),
    ).toBe(true);
    expect(c.out.at(-1)).toMatch(/^verdict: UNKNOWN  no time server answered/);
  });

  it('--json prints the whole measurement', async () => {
    a.set({ mode: 'normal', offsetMs: 60 });
    b.set({ mode: 'silent' });
    const c = capture();
    const exit = await runClockCheck(
      { server: [`127.0.0.1:${a.port}`, `127.0.0.1:${b.port}`], json: true, timeout: '200' },
      c.io,
      noChrony,
    );
    expect(exit).toBe(1);
    const doc = JSON.parse(c.out.join('\n')) as Record<string, unknown>;
    expect(doc).toMatchObject({ verdict: 'warn', exitCode: 1, warnMs: 50, alarmMs: 100, answered: 1 });
    expect(Math.abs((doc['offsetMs'] as number) - 60)).toBeLessThan(2);
    const servers = doc['servers'] as { server: string; ok: boolean; error?: { code: string } }[];
    expect(servers[1]).toMatchObject({ ok: false, error: { code: 'CLOCK_TIMEOUT' } });
  });

  it('reads servers and thresholds from --config', async () => {
    a.set({ mode: 'normal', offsetMs: 60 });
    const path = twIni([`servers = 127.0.0.1:${a.port}`, 'warn_ms = 70', 'alarm_ms = 90', 'chrony = off']);
    const c = capture();
    const exit = await runClockCheck({ config: path }, c.io);
    expect(c.err).toEqual([]);
    expect(exit).toBe(0);
    expect(c.out.at(-1)).toContain('(warn at 70 ms, alarm at 90 ms)');
    expect(c.out.some((l) => l.startsWith('chrony:'))).toBe(false);
  });

  it('--server replaces the servers of --config', async () => {
    a.set({ mode: 'normal', offsetMs: 95 });
    const path = twIni(['servers = 127.0.0.1:1', 'warn_ms = 70', 'alarm_ms = 90', 'chrony = off']);
    const c = capture();
    const exit = await runClockCheck({ config: path, server: [`127.0.0.1:${a.port}`] }, c.io);
    expect(exit).toBe(2);
  });

  it('a bad [clock] key: exit 4 and the key named', async () => {
    const path = twIni([`servers = 127.0.0.1:${a.port}`, 'warn_ms = fifty']);
    const c = capture();
    const exit = await runClockCheck({ config: path }, c.io);
    expect(exit).toBe(CLOCK_EXIT.badInput);
    expect(c.err[0]).toContain('[CLOCK_SETTING] [clock] warn_ms:');
  });

  it('a missing config file: exit 4', async () => {
    const c = capture();
    const exit = await runClockCheck({ config: join(dir, 'nope.ini') }, c.io);
    expect(exit).toBe(CLOCK_EXIT.badInput);
    expect(c.err.length).toBeGreaterThan(0);
  });

  it('no server at all, or a bad one: exit 4', async () => {
    const c = capture();
    expect(await runClockCheck({}, c.io)).toBe(4);
    expect(c.err.join('\n')).toContain('--server');
    expect(await runClockCheck({ server: ['host:99999'] }, c.io)).toBe(4);
    expect(await runClockCheck({ server: ['127.0.0.1'], timeout: 'soon' }, c.io)).toBe(4);
  });

  it('is wired into commander and sets process.exitCode', async () => {
    a.set({ mode: 'normal', offsetMs: 101 });
    const program = new Command('nqgw').exitOverride();
    registerClockCommands(program);
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const saved = process.exitCode;
    try {
      await program.parseAsync(['clock', 'check', '--server', `127.0.0.1:${a.port}`, '--json'], {
        from: 'user',
      });
      expect(process.exitCode).toBe(2);
      const printed = write.mock.calls.map((call) => String(call[0])).join('');
      expect(JSON.parse(printed)).toMatchObject({ verdict: 'alarm' });
    } finally {
      write.mockRestore();
      process.exitCode = saved;
    }
  });
});
