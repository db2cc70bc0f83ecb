import { describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  FleetError,
  baselineFrom,
  findDifferences,
  readAnswer,
  readInventory,
  remoteCommand,
  sshConfigText,
  type ReplicaReport,
} from '../../../appliance/src/fleet/index.js';
import { tempDir } from '../../helpers/tempdir.js';
import { EXAMPLE_DIR, MODULE_DIR, parseDir } from '../infra/hcl.js';

const out = (value: unknown, type: unknown = ['map', 'string']) => ({ sensitive: false, type, value });

function inventory(doc: unknown): string {
  const file = path.join(tempDir('nqgw-fleet-unit-'), 'outputs.json');
  writeFileSync(file, JSON.stringify(doc));
  return file;
}

const report = (over: Partial<ReplicaReport> & { name: string }): ReplicaReport => ({
  host: '10.80.1.11',
  port: 22,
  role: 'standby',
  reachable: true,
  version: 'nqgw 0.1.0',
  configHash: 'a'.repeat(64),
  configSections: { link: '1', options: '2' },
  ...over,
});

describe('the inventory: terraform output -json of the DR VPC', () => {
  it('reads replica_ips with roles and stations, sorted by name; a bare map and host:port work too', () => {
    const file = inventory({
      replica_ips: out({ 'gw-b': '10.80.1.12', 'gw-a': '10.80.1.11' }),
      replica_roles: out({ 'gw-a': 'active', 'gw-b': 'standby' }),
      replica_stations: out({ 'gw-a': 'W888888T', 'gw-b': 'W888888T' }),
    });
    expect(readInventory(file)).toEqual([
      { name: 'gw-a', host: '10.80.1.11', port: 22, role: 'active', station: 'W888888T' },
      { name: 'gw-b', host: '10.80.1.12', port: 22, role: 'standby', station: 'W888888T' },
    ]);
    const bare = inventory({ replica_ips: { x: '127.0.0.1:2222' }, active_replica: out('x', 'string') });
    expect(readInventory(bare)).toEqual([{ name: 'x', host: '127.0.0.1', port: 2222, role: 'active' }]);
  });

  it('refuses an inventory without replica_ips or with a bad address (NQ660)', () => {
    expect(() => readInventory(inventory({ active_replica: out('gw-a', 'string') }))).toThrow(
      /no replica_ips/,
    );
    expect(() => readInventory(inventory({ replica_ips: out({ a: '10.0.0.1:99999' }) }))).toThrow(FleetError);
    expect(() => readInventory('/nonexistent.json')).toThrow(/ENOENT/);
  });

  it('the example VPC and the module output everything the inventory reads', async () => {
    for (const dir of [EXAMPLE_DIR, MODULE_DIR]) {
      const outputs = Object.keys((await parseDir(dir)).output as object);
      expect(outputs, dir).toEqual(
        expect.arrayContaining(['replica_ips', 'replica_roles', 'replica_stations', 'active_replica']),
      );
    }
  });
});

describe('ssh through the bastion', () => {
  it('writes an ssh_config with strict host keys, BatchMode and the bastion as a named host', () => {
    const text = sshConfigText({
      bastion: 'ops@10.80.0.5:2222',
      knownHosts: '/k/known_hosts',
      identity: '/k/id',
    });
    expect(text).toContain('Host nqgw-bastion\n  HostName 10.80.0.5\n  Port 2222\n  User ops\n');
    for (const line of ['BatchMode yes', 'StrictHostKeyChecking yes', 'UserKnownHostsFile "/k/known_hosts"'])
      expect(text).toContain(`  ${line}\n`);
    expect(text).toContain('  GlobalKnownHostsFile /dev/null\n');
    expect(text).toContain('  IdentitiesOnly yes\n');
    expect(() => sshConfigText({ bastion: 'a@b@c', knownHosts: '/k' })).toThrow(/not \[user@\]host\[:port\]/);
  });

  it('runs version and status in one session, quoting the remote tw.ini', () => {
    expect(remoteCommand({ bastion: 'b', knownHosts: 'k' })).toBe('nqgw version --json; nqgw status --json');
    expect(
      remoteCommand({
        bastion: 'b',
        knownHosts: 'k',
        remoteNqgw: 'sudo -n -u nqgw nqgw',
        remoteConfig: '/etc/nq gw/tw.ini',
      }),
    ).toBe(
      "sudo -n -u nqgw nqgw version --json --config '/etc/nq gw/tw.ini'; sudo -n -u nqgw nqgw status --json --config '/etc/nq gw/tw.ini'",
    );
  });

  it('reads the answer: a banner is ignored, no JSON is "not reachable" with ssh\'s words', () => {
    const r = { name: 'gw-a', host: 'h', port: 22, role: 'active' };
    const ok = readAnswer(r, {
      code: 1,
      stdout: `Welcome\n{"software":"nqgw 0.1.0","configHash":"abc","configSections":{"a":"1"},"station":"W888888T"}\n{"running":true,"station":"W888888T","linkState":"正常","clock":{"state":"ok","offsetMs":1.5},"alerts":[{"code":"NOTICE","severity":"info"}]}\n`,
      stderr: '',
    });
    expect(ok).toMatchObject({
      reachable: true,
      version: 'nqgw 0.1.0',
      configHash: 'abc',
      gateway: {
        running: true,
        linkState: '正常',
        clock: { state: 'ok', offsetMs: 1.5 },
        alerts: [{ code: 'NOTICE' }],
      },
    });
    const down = readAnswer(r, { code: 255, stdout: '', stderr: 'Host key verification failed.\r\n' });
    expect(down).toMatchObject({ reachable: false, error: 'Host key verification failed.' });
  });
});

describe('what check flags', () => {
  it('nothing when the replicas are alike and the standby is not logged on', () => {
    expect(findDifferences([report({ name: 'a', role: 'active' }), report({ name: 'b' })])).toEqual([]);
  });

  it('versions, configuration (naming the sections), an unreachable replica, two sessions of one station', () => {
    const f = findDifferences([
      report({ name: 'a', gateway: gw('W888888T') }),
      report({
        name: 'b',
        version: 'nqgw 0.2.0',
        configHash: 'b'.repeat(64),
        configSections: { link: '1', options: '9' },
        gateway: gw('W888888T'),
      }),
      report({ name: 'c', reachable: false, error: 'Connection refused' }),
    ]);
    expect(f.map((x) => x.code).sort()).toEqual(['NQ670', 'NQ672', 'NQ673', 'NQ677']);
    expect(f.find((x) => x.code === 'NQ672')?.text).toBe('versions differ: nqgw 0.1.0 on a; nqgw 0.2.0 on b');
    expect(f.find((x) => x.code === 'NQ673')?.text).toMatch(
      /^configuration differs: a{12} on a; b{12} on b \(in \[options\]\)$/,
    );
    expect(f.find((x) => x.code === 'NQ677')?.text).toBe(
      'station W888888T is logged on from a and b at once',
    );
  });

  it('against the record (a saved fleet status): which replica moved, and where', () => {
    const baseline = baselineFrom({ replicas: [report({ name: 'a' }), report({ name: 'b' })] });
    expect(baseline).toEqual({
      version: 'nqgw 0.1.0',
      configHash: 'a'.repeat(64),
      configSections: { link: '1', options: '2' },
    });
    const f = findDifferences(
      [report({ name: 'a', configHash: 'c'.repeat(64), configSections: { link: '7', options: '2' } })],
      baseline,
    );
    expect(f).toEqual([
      {
        code: 'NQ675',
        text: `a: configuration ${'c'.repeat(12)} is not the recorded ${'a'.repeat(12)} (in [link])`,
        replicas: ['a'],
      },
    ]);
    expect(findDifferences([report({ name: 'a' })], { version: 'nqgw 0.0.9' })[0]?.code).toBe('NQ674');
  });
});

function gw(station: string): ReplicaReport['gateway'] {
  return {
    running: true,
    station,
    linkState: '正常',
    server: null,
    clock: null,
    alerts: [],
    updatedAt: null,
  };
}
