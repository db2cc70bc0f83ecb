import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LabDescription } from '../../../appliance/src/lab/index.js';
import { makeLab, setIni, startLinked, type SimAdmin } from '../../helpers/lab.js';
import { freePort } from '../../helpers/ports.js';
import { runNqgw, waitUntil, type NqgwProcess } from '../../helpers/process.js';
import {
  HAS_SSH,
  LOGIN,
  LoopbackSshd,
  keygen,
  nqgwWrapper,
  renderedReplicaTemplate,
  testOnlyLines,
} from './sshd.js';

/**
 * `nqgw fleet` against real sshd on loopback: a bastion and two replicas (each its own port, host
 * key and a PATH whose `nqgw` is this build with that replica's tw.ini), reached only through the
 * bastion (ssh -J) with strict host keys. Replica gw-a runs a gateway logged on to the lab
 * simulator (active); gw-b is a copy of its lab folder with no gateway running (standby).
 */
const SKIP = !HAS_SSH;
const why = 'openssh-server/openssh-client missing: run scripts/ci-deps/fleet.sh';

let root: string;
let labA: LabDescription;
let twB: string;
const sshds: LoopbackSshd[] = [];
const running: NqgwProcess[] = [];
let args: string[];
let inventory: string;
let admin: SimAdmin;

beforeAll(async () => {
  if (SKIP) return;
  root = mkdtempSync(path.join(os.tmpdir(), 'nqgw-fleet-')); // for the whole file: removed in afterAll
  labA = await makeLab();
  // The API as deployed (HTTPS, docs/ops.md): each replica's `nqgw status` reaches it pinned to api.crt.
  setIni(labA.twIni, 'management', 'tls', 'yes');
  cpSync(labA.dir, path.join(root, 'lab-b'), { recursive: true });
  twB = path.join(root, 'lab-b', 'tw.ini');
  // Its own listen address, as each replica has its fixed IP (the address is not part of the
  // compared configuration); the same port would reach gw-a's API on this one host.
  setIni(twB, 'management', 'listen', `127.0.0.2:${labA.management.port}`);

  const id = path.join(root, 'operator_key');
  keygen(id, 'operator');
  copyFileSync(`${id}.pub`, path.join(root, 'authorized_keys'));
  const [pb, pa, pbb] = [await freePort(), await freePort(), await freePort()];
  const bastion = new LoopbackSshd(
    'bastion',
    path.join(root, 'bastion'),
    pb,
    [
      ...testOnlyLines(root),
      'PasswordAuthentication no',
      'AllowTcpForwarding yes', // the bastion forwards (ssh -J uses -W through it); replicas do not
    ].join('\n'),
  );
  sshds.push(bastion);
  const replica = (name: string, port: number, twIni: string): LoopbackSshd => {
    const dir = path.join(root, name);
    nqgwWrapper(path.join(dir, 'bin'), twIni);
    const s = new LoopbackSshd(
      name,
      dir,
      port,
      [
        ...testOnlyLines(root),
        `SetEnv PATH=${path.join(dir, 'bin')}:/usr/bin:/bin`,
        renderedReplicaTemplate(), // AllowTcpForwarding no, as on the image
      ].join('\n'),
    );
    sshds.push(s);
    return s;
  };
  const a = replica('gw-a', pa, labA.twIni);
  const b = replica('gw-b', pbb, twB);
  await Promise.all(sshds.map((s) => s.ready()));

  const knownHosts = path.join(root, 'known_hosts');
  writeFileSync(knownHosts, `${[bastion, a, b].map((s) => s.knownHostsLine()).join('\n')}\n`);
  inventory = path.join(root, 'terraform-outputs.json');
  const out = (value: unknown) => ({ sensitive: false, type: ['map', 'string'], value });
  writeFileSync(
    inventory,
    JSON.stringify({
      active_replica: { sensitive: false, type: 'string', value: 'gw-a' },
      replica_ips: out({ 'gw-a': `127.0.0.1:${pa}`, 'gw-b': `127.0.0.1:${pbb}` }),
      replica_roles: out({ 'gw-a': 'active', 'gw-b': 'standby' }),
    }),
  );
  args = ['--inventory', inventory, '--bastion', `${LOGIN}@127.0.0.1:${pb}`, '--known-hosts', knownHosts];
  args.push('--identity', id, '--user', LOGIN);
  admin = (await startLinked(labA, running)).admin;
}, 60_000);

afterAll(async () => {
  for (const p of running.splice(0)) await p.stop('SIGKILL');
  for (const s of sshds.splice(0)) await s.stop();
  if (root) rmSync(root, { recursive: true, force: true });
  if (labA) rmSync(labA.dir, { recursive: true, force: true });
});

interface FleetJson {
  replicas: {
    name: string;
    role: string;
    reachable: boolean;
    version?: string;
    configHash?: string;
    gateway?: { running: boolean; linkState: string | null; alerts: unknown[]; station: string | null };
    error?: string;
  }[];
  findings: { code: string; text: string }[];
}

describe.skipIf(SKIP)(`nqgw fleet through a bastion (${SKIP ? why : 'sshd on loopback'})`, () => {
  it('status: one row a replica with version, config hash, role, gateway state, clock and alerts', async () => {
    // An alert on the active replica (a notice from the main station) shows in its row.
    await admin.post('/faults/notice', { station: labA.station, text: '周末进行灾备切换演练' });
    await waitUntil(
      async () => (await runNqgw(['alerts', '--config', labA.twIni])).code === 1,
      'NOTICE active on gw-a',
    );
    const r = await runNqgw(['fleet', 'status', ...args]);
    expect(r.code, r.output).toBe(0);
    const lines = r.output.split('\n');
    expect(lines[0]).toMatch(
      /^副本 replica\s+角色 role\s+版本 version\s+配置 config\s+网关 gateway\s+时钟 clock\s+告警 alerts$/,
    );
    const a = lines.find((l) => l.startsWith('gw-a '))!;
    const b = lines.find((l) => l.startsWith('gw-b '))!;
    expect(a).toMatch(
      /^gw-a 127\.0\.0\.1:\d+\s+active\s+nqgw 0\.1\.0\s+[0-9a-f]{12}\s+运行中 正常\s+-\s+NOTICE$/,
    );
    // No gateway, so no live API: its alerts are unknown ('-'), not "none".
    expect(b).toMatch(/^gw-b 127\.0\.0\.1:\d+\s+standby\s+nqgw 0\.1\.0\s+[0-9a-f]{12}\s+未运行\s+-\s+-$/);
    // The same configuration (copies of one lab folder): the same hash in both rows.
    expect(a.match(/[0-9a-f]{12}/)![0]).toBe(b.match(/[0-9a-f]{12}/)![0]);
    expect(r.output).toContain('一致 (no differences)');
    process.stdout.write(`\n${r.output}\n`);

    const j = await runNqgw(['fleet', 'status', '--json', ...args]);
    const doc = JSON.parse(j.output) as FleetJson;
    expect(doc.replicas.map((x) => [x.name, x.role, x.reachable, x.gateway?.running])).toEqual([
      ['gw-a', 'active', true, true],
      ['gw-b', 'standby', true, false],
    ]);
    expect(doc.replicas[0]!.gateway).toMatchObject({ linkState: '正常', station: labA.station });
    writeFileSync(path.join(root, 'baseline.json'), j.output);
  });

  it('check: exit 0 while alike; exit 1 naming the section when one replica’s tw.ini differs, and against the record', async () => {
    expect((await runNqgw(['fleet', 'check', ...args])).code).toBe(0);
    setIni(twB, 'options', 'send_block_warn_ms', '20000');
    const r = await runNqgw(['fleet', 'check', ...args]);
    expect(r.code, r.output).toBe(1);
    expect(r.output).toMatch(
      /\[NQ673\] configuration differs: [0-9a-f]{12} on gw-a; [0-9a-f]{12} on gw-b \(in \[options\]\)/,
    );
    const base = await runNqgw(['fleet', 'check', '--baseline', path.join(root, 'baseline.json'), ...args]);
    expect(base.code).toBe(1);
    expect(base.output).toMatch(
      /\[NQ675\] gw-b: configuration [0-9a-f]{12} is not the recorded [0-9a-f]{12} \(in \[options\]\)/,
    );
    expect(base.output).not.toMatch(/NQ675\] gw-a/);
    setIni(twB, 'options', 'send_block_warn_ms', '15000');
  });

  it('refuses a replica whose host key is not in known_hosts (BatchMode: no prompt), and reports it', async () => {
    const strict = path.join(root, 'known_hosts_partial');
    writeFileSync(
      strict,
      `${sshds
        .filter((s) => s.name !== 'gw-b')
        .map((s) => s.knownHostsLine())
        .join('\n')}\n`,
    );
    const i = args.indexOf('--known-hosts');
    const partial = [...args];
    partial[i + 1] = strict;
    const r = await runNqgw(['fleet', 'check', '--json', ...partial]);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.output) as FleetJson;
    expect(doc.replicas.find((x) => x.name === 'gw-b')).toMatchObject({ reachable: false });
    expect(doc.replicas.find((x) => x.name === 'gw-b')?.error).toMatch(/Host key verification failed/);
    expect(doc.findings.map((f) => f.code)).toEqual(['NQ670']);
  });

  it('a missing known_hosts or inventory is a wrong call: exit 2, one line and a hint', async () => {
    const r = await runNqgw([
      'fleet',
      'status',
      ...args.map((a) => (a.endsWith('known_hosts') ? '/nonexistent' : a)),
    ]);
    expect(r.code).toBe(2);
    expect(r.output).toMatch(/^\[NQ661\] --known-hosts \/nonexistent: does not exist\n {2}-> /);
    const inv = await runNqgw([
      'fleet',
      'status',
      ...args.map((a) => (a === inventory ? '/nonexistent.json' : a)),
    ]);
    expect(inv.code).toBe(2);
    expect(inv.output).toMatch(/^\[NQ660\] inventory \/nonexistent\.json: ENOENT/);
  });
});
