import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { registerConfigCommands, type CliOutput } from '../../../appliance/src/cli/config.js';
import { LAB_INI, makeDir, withLine } from './helpers.js';

let tmp: ReturnType<typeof makeDir>;
beforeEach(() => {
  tmp = makeDir();
  process.exitCode = undefined;
});
afterEach(() => {
  tmp.cleanup();
  process.exitCode = undefined;
});

/** Run `nqgw ARGS` with the config commands; returns the exit code and what was printed. */
async function nqgw(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliOutput = { out: (l) => out.push(l), err: (l) => err.push(l) };
  const program = new Command('nqgw').exitOverride().configureOutput({
    writeOut: (s) => out.push(s),
    writeErr: (s) => err.push(s),
  });
  registerConfigCommands(program, io);
  let code: number;
  try {
    await program.parseAsync(args, { from: 'user' });
    code = Number(process.exitCode ?? 0);
  } catch (e) {
    code = (e as { exitCode?: number }).exitCode ?? 1;
  }
  process.exitCode = undefined;
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('nqgw config check', () => {
  it('prints OK and a summary, exit 0', async () => {
    const file = tmp.write('tw.ini', LAB_INI);
    const r = await nqgw('config', 'check', file);
    expect(r.code).toBe(0);
    expect(r.out).toBe(
      `OK: ${file}\nstation W888888T, units 729900,729901; 1 server: lab simulator 127.0.0.1:7043; ` +
        'tls file; management 127.0.0.1:9300\nencoding: UTF-8',
    );
  });

  it('prints every problem with its line, exit 2', async () => {
    const file = tmp.write(
      'tw.ini',
      withLine(4, 'units = 72990').replace('server1 = 127.0.0.1:7043', 'server1 = 127.0.0.1:70430') +
        '\n[link]\nhearbeat_ms = 100\n',
    );
    const r = await nqgw('config', 'check', file);
    expect(r.code).toBe(2);
    expect(r.err.split('\n')).toEqual([
      `NOT OK: ${file} (3 problems)`,
      `${file}:4 [station] units: "72990" is not a six-digit trading unit — write units as six digits separated by commas, e.g. 729900,729901`,
      `${file}:11 [servers] server1: "127.0.0.1:70430": port 70430 is outside 1-65535 — write the main-station address as host:port, e.g. 172.50.101.30:7043`,
      `${file}:24 [link] hearbeat_ms: unknown key; did you mean "heartbeat_ms"? — rename it to heartbeat_ms, or delete the line`,
    ]);
  });

  it('a missing file is exit 2', async () => {
    const r = await nqgw('config', 'check', join(tmp.dir, 'nope.ini'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/cannot read the file \(ENOENT\)/);
  });
});

describe('nqgw config render', () => {
  it('renders lab to --out, which then checks OK', async () => {
    const values = tmp.write('values.json', JSON.stringify({ station: 'W123456X', units: ['729901'] }));
    const out = join(tmp.dir, 'tw.ini');
    const r = await nqgw(
      'config',
      'render',
      '--template',
      'lab',
      '--values',
      values,
      '--out',
      out,
      '--check',
    );
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^wrote .*tw\.ini from template lab\nOK: /);
    expect(readFileSync(out, 'utf8')).toMatch(/^id = W123456X$/m);
    expect((await nqgw('config', 'check', out)).code).toBe(0);
  });

  it('prints to stdout without --out', async () => {
    const values = tmp.write('values.json', '{}');
    const r = await nqgw('config', 'render', '--template', 'lab', '--values', values);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^server1 = 127\.0\.0\.1:7043$/m);
  });

  it('exit 2 for an unknown template, bad JSON, a bad value, and a rendered file that does not check', async () => {
    const good = tmp.write('values.json', '{}');
    const r1 = await nqgw('config', 'render', '--template', 'nope', '--values', good);
    expect(r1.code).toBe(2);
    expect(r1.err).toMatch(/unknown template "nope"/);

    const badJson = tmp.write('bad.json', '{ station: ');
    const r2 = await nqgw('config', 'render', '--template', 'lab', '--values', badJson);
    expect(r2.code).toBe(2);
    expect(r2.err).toMatch(/cannot read the values document/);

    const newline = tmp.write('nl.json', JSON.stringify({ station: 'W888888T\nx' }));
    const r3 = await nqgw('config', 'render', '--template', 'lab', '--values', newline);
    expect(r3.code).toBe(2);
    expect(r3.err).toMatch(/value "station" contains a line break/);

    const out = join(tmp.dir, 'sub', 'tw.ini');
    const r4 = await nqgw('config', 'render', '--template', 'lab', '--values', good, '--out', out);
    expect(r4.code).toBe(2);
    expect(r4.err).toMatch(/cannot write/);
    expect(existsSync(out)).toBe(false);

    const wrongUnit = tmp.write('u.json', JSON.stringify({ units: ['72990'] }));
    const out5 = join(tmp.dir, 'tw5.ini');
    const r5 = await nqgw(
      'config',
      'render',
      '--template',
      'lab',
      '--values',
      wrongUnit,
      '--out',
      out5,
      '--check',
    );
    expect(r5.code).toBe(2);
    expect(r5.err).toMatch(/"72990" is not a six-digit trading unit/);
  });

  it('a missing --values is refused by the parser', async () => {
    const r = await nqgw('config', 'render', '--template', 'lab');
    expect(r.code).not.toBe(0);
    expect(r.err).toMatch(/--values/);
  });

  it('config templates lists them', async () => {
    const r = await nqgw('config', 'templates');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^cloud-production: NEEQ main-station production links/m);
    expect(r.out).toMatch(/^lab: /m);
  });
});
