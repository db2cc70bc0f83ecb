import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadSimConfig, parseSimConfig, SimConfigError } from '../../../appliance/src/sim/index.js';

const GOOD = `
[server]
listen = 127.0.0.1:0
ca = ca.pem
cert = server.crt
key = server.key
state_dir = st
silence_s = 0.5
heartbeat_s = 10
fill_rule = half

[admin]
listen = 127.0.0.1:0

[station.W888888T]
units = 729900, 729901
cert_cn = W888888T

[station.W777777T]
units = 729800

[securities]
listed = 43,83,87
`;

function errorOf(text: string): SimConfigError {
  try {
    parseSimConfig(text, '/etc/sim/sim.ini');
  } catch (err) {
    if (err instanceof SimConfigError) return err;
    throw err;
  }
  throw new Error('no error');
}

describe('sim.ini', () => {
  it('reads every setting, resolving paths against the file', () => {
    const c = parseSimConfig(GOOD, '/etc/sim/sim.ini');
    expect(c.listen).toEqual({ host: '127.0.0.1', port: 0 });
    expect(c.ca).toBe('/etc/sim/ca.pem');
    expect(c.stateDir).toBe('/etc/sim/st');
    expect(c.silenceMs).toBe(500);
    expect(c.heartbeatMs).toBe(10_000);
    expect(c.fillRule).toBe('half');
    expect(c.stations.get('W888888T')).toEqual({
      id: 'W888888T',
      units: ['729900', '729901'],
      certCn: 'W888888T',
    });
    expect(c.stations.get('W777777T')?.certCn).toBe('W777777T');
    expect(c.listedPrefixes).toEqual(['43', '83', '87']);
  });

  it('names file and line of a mistake', () => {
    const cases: [string, string, number, RegExp][] = [
      ['fill_rule = half', 'fill_rule = most', 10, /fill_rule/],
      ['silence_s = 0.5', 'silence_s = soon', 8, /silence_s/],
      ['units = 729900, 729901', 'units = 729900, 72990X', 16, /72990X/],
      ['units = 729800', 'units = 729900', 20, /already belongs/],
      ['[admin]\nlisten = 127.0.0.1:0', '[admin]\nlisten = 0.0.0.0:7044', 13, /loopback/],
      ['listed = 43,83,87', 'listed = 43,x', 23, /prefix/],
      ['listen = 127.0.0.1:0\nca', 'listen = nowhere\nca', 3, /host:port/],
      ['[securities]', '[securitys]', 22, /unknown section/],
      ['heartbeat_s = 10', 'heartbeat_s 10', 9, /cannot read/],
    ];
    for (const [from, to, line, re] of cases) {
      const err = errorOf(GOOD.replace(from, to));
      expect(err.line, to).toBe(line);
      expect(err.message).toMatch(re);
      expect(err.message).toContain(`/etc/sim/sim.ini:${line}`);
    }
  });

  it('needs the PEM paths and at least one station', () => {
    expect(errorOf(GOOD.replace('ca = ca.pem', '')).message).toMatch(/ca is required/);
    expect(errorOf('[server]\nca=a\ncert=b\nkey=c\n').message).toMatch(/no \[station/);
  });

  it('loadSimConfig reports an unreadable file as a SimConfigError', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'simcfg-'));
    await expect(loadSimConfig(join(dir, 'missing.ini'))).rejects.toBeInstanceOf(SimConfigError);
    await writeFile(join(dir, 'sim.ini'), GOOD);
    expect((await loadSimConfig(join(dir, 'sim.ini'))).ca).toBe(join(dir, 'ca.pem'));
    await rm(dir, { recursive: true, force: true });
  });
});
