import { existsSync, rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../appliance/src/config/index.js';
import { Gateway } from '../../../appliance/src/gateway/index.js';
import { makeLab } from '../../helpers/lab.js';

/**
 * Gateway.stop() when one of its steps throws: the Gateway in this process on a real lab's files
 * (no main station: the link waits in backoff, which the stop does not care about). The step made
 * to fail is the last status publish, through a 'status' listener that throws, a public way in.
 */

const gateways: Gateway[] = [];
const dirs: string[] = [];
afterEach(async () => {
  for (const g of gateways.splice(0)) await g.stop().catch(() => undefined);
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function started(twIni: string): Promise<Gateway> {
  const gateway = new Gateway(loadConfig(twIni));
  gateways.push(gateway);
  await gateway.start();
  return gateway;
}

describe('Gateway.stop() with a step that throws', () => {
  it('still releases the order-file lock, and throws that failure', async () => {
    const lab = await makeLab();
    dirs.push(lab.dir);
    const gateway = await started(lab.twIni);
    const lockFile = `${lab.orders}.lock`;
    expect(existsSync(lockFile), 'the running gateway holds the lock').toBe(true);

    gateway.on('status', () => {
      throw new Error('a status listener that fails on purpose');
    });
    await expect(gateway.stop()).rejects.toThrow('a status listener that fails on purpose');

    expect(existsSync(lockFile), 'no lock left behind').toBe(false);
    // And the next gateway serves the order file at once, without a take-over of a stale lock.
    const next = await started(lab.twIni);
    expect(next.log.recent().some((l) => l.code === 'NQ740')).toBe(false);
    await next.stop();
    expect(existsSync(lockFile)).toBe(false);
  });
});
