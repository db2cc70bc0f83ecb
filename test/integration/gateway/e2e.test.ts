import { afterEach, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { makeLab, simReady, startGateway, startSim } from '../../helpers/lab.js';
import { runNqgw, waitUntil, type NqgwProcess } from '../../helpers/process.js';
import { expectExactlyOnce } from '../../helpers/checks.js';

const running: NqgwProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
});

describe('gateway end to end over TLS on loopback', () => {
  it('carries fed orders to the simulator and writes every return once, with the status screen right', async () => {
    const lab = await makeLab();
    running.push(startSim(lab));
    const admin = await simReady(lab);
    // A VM left on another timezone still dates and checks orders in China Standard Time.
    const gateway = startGateway(lab, { TZ: 'America/Los_Angeles' });
    running.push(gateway);
    await gateway.waitFor(/小站端与服务器连接成功/);

    const feed = await runNqgw(['feed', '--config', lab.twIni, '--count', '300', '--rate', '1000']);
    expect(feed.code).toBe(0);
    // fill_rule=full: a confirmation and a fill for each order.
    await waitUntil(
      async () => (await admin.station(lab.station)).returns === 600,
      '600 returns at the simulator',
    );
    await waitUntil(async () => {
      const s = await runNqgw(['status', '--config', lab.twIni, '--json']);
      const status = JSON.parse(s.output) as { returns: number };
      return status.returns === 600;
    }, 'status shows 600 returns');

    const status = await runNqgw(['status', '--config', lab.twIni, '--json']);
    expect(status.code).toBe(0);
    const s = JSON.parse(status.output) as Record<string, unknown>;
    expect(s).toMatchObject({
      running: true,
      station: lab.station,
      sent: 300,
      accepted: 300,
      rejected: 0,
      returns: 600,
      pending: 0,
      linkState: '正常',
    });
    const screen = await runNqgw(['status', '--config', lab.twIni]);
    expect(screen.output).toContain('小站号: W888888T');
    expect(screen.output).toContain('已发委托: 300');

    // The vendor's options: the time file is kept fresh and the link-down flag is gone while up.
    expect(readFileSync(path.join(lab.stateDir, 'TIME.TXT'), 'utf8')).toMatch(/^\d{8} \d{6}\n$/);
    expect(existsSync(path.join(lab.stateDir, 'LINKDOWN.FLG'))).toBe(false);

    expect(await gateway.stop()).toBe(0);
    await expectExactlyOnce(lab, admin, 300);
    expect(existsSync(`${lab.orders}.lock`), 'lock released on a clean stop').toBe(false);
  });
});
