import { mkdirSync, readdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CutoverResult } from '../../../appliance/src/cutover/index.js';
import { isAlive } from '../../../appliance/src/shared/index.js';
import { loadConfig } from '../../../appliance/src/config/index.js';
import { ObjectStore, parseLogSettings } from '../../../appliance/src/logs/index.js';
import { readAuditLog } from '../../../appliance/src/ops/index.js';
import { setIni, simReady, startSim } from '../../helpers/lab.js';
import type { NqgwProcess } from '../../helpers/process.js';
import { LOG_BUCKET, S3Lab, S3RVER_KEY } from '../../helpers/s3.js';
import { shippingLab } from '../logs/harness.js';
import { runCutoverCli, sha256 } from './cli.js';

/**
 * A drill writes nowhere real (issue 13 §1, seed 002 §5.1): with absolute [logs] paths and an
 * object store in tw.ini, the drill neither ships to the real bucket and prefix nor writes into
 * the real logs or state directories; the one real write is its audit record.
 */
let s3: S3Lab;
beforeAll(async () => {
  s3 = await S3Lab.start('s3rver');
}, 60_000);
afterAll(async () => {
  await s3?.stop();
});
const running: NqgwProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop('SIGTERM')));
});

async function bucketKeys(): Promise<string[]> {
  const store = new ObjectStore({
    endpoint: s3.directEndpoint,
    bucket: LOG_BUCKET,
    prefix: '',
    region: 'us-east-1',
    credentials: { accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_KEY },
  });
  try {
    return (await store.list('')).sort();
  } finally {
    store.destroy();
  }
}

function tree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, e.name);
      if (e.isDirectory()) walk(full);
      else out.push(`${path.relative(dir, full)} ${sha256(full)}`);
    }
  };
  walk(dir);
  return out.sort();
}

describe('cutover --drill with object storage and absolute [logs] paths', () => {
  it('ships nothing, writes nothing into the real logs or state, and lists what it created and removed', async () => {
    const lab = await shippingLab(s3, 'gw-real', { archive_after: '00:00', prefix: 'prod' });
    const realLogs = path.join(lab.dir, 'real-logs');
    mkdirSync(realLogs);
    setIni(lab.twIni, 'logs', 'dir', realLogs); // absolute
    setIni(lab.simIni, 'server', 'heartbeat_s', '1');
    running.push(startSim(lab));
    await simReady(lab);

    // The real configuration does ship, to the real prefix: what the drill must not do.
    expect(parseLogSettings(loadConfig(lab.twIni)).store).toMatchObject({
      bucket: LOG_BUCKET,
      prefix: 'prod',
    });
    const stateBefore = tree(lab.stateDir);
    const logsBefore = tree(realLogs);
    const filesBefore = [sha256(lab.orders), sha256(lab.returns)];
    const keysBefore = await bucketKeys();
    const requestsBefore = s3.proxy.seen.length;
    const drillsBefore = readdirSync(os.tmpdir()).filter((f) => /^nqgw-drill-[A-Za-z0-9]{6}$/.test(f));

    const { code, output, stdout } = await runCutoverCli([
      '--config',
      lab.twIni,
      '--drill',
      '--force', // the CI may run on a trading day
      '--operator',
      'duty-1',
      '--json',
    ]);
    expect(code, output).toBe(0);
    const result = JSON.parse(stdout) as CutoverResult;
    expect(result.go).toBe(true);
    expect(isAlive(result.gatewayPid!)).toBe(false);

    // Not one request reached the store during the drill, and the bucket holds what it held.
    expect(s3.proxy.seen.length).toBe(requestsBefore);
    expect(await bucketKeys()).toEqual(keysBefore);
    // The real logs directory and interface files unchanged; the state directory too, but for
    // the drill's record in the audit log.
    expect(tree(realLogs)).toEqual(logsBefore);
    expect([sha256(lab.orders), sha256(lab.returns)]).toEqual(filesBefore);
    expect(tree(lab.stateDir).filter((f) => !f.startsWith('audit.log '))).toEqual(
      stateBefore.filter((f) => !f.startsWith('audit.log ')),
    );
    expect(readAuditLog(path.join(lab.stateDir, 'audit.log'))).toMatchObject([
      {
        action: 'cutover-drill',
        result: 'ok',
        operator: 'duty-1',
        approval: 'no approver',
        args: { force: true },
      },
    ]);
    // The drill's own logs were written, inside the scratch site, and removed with it.
    expect(result.drillCreated).toEqual(expect.arrayContaining(['tw.ini', 'NQWT.DBF', 'state/status.json']));
    expect(result.drillCreated!.some((f) => f.startsWith('state/logs/'))).toBe(true);
    const cleanup = result.steps.find((s) => s.step === 'drill-cleanup');
    expect(cleanup?.detail).toMatch(
      /deleted: \d+ file\(s\), \d+ bytes created by the drill .*nothing was shipped/,
    );
    const drillsAfter = readdirSync(os.tmpdir()).filter((f) => /^nqgw-drill-[A-Za-z0-9]{6}$/.test(f));
    expect(drillsAfter.filter((d) => !drillsBefore.includes(d))).toEqual([]);
  });
});
