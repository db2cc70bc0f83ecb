import { afterEach, describe, expect, it } from 'vitest';
import { makeLab, simReady, startGateway, startSim } from '../../helpers/lab.js';
import { NqgwProcess } from '../../helpers/process.js';
import { expectExactlyOnce, waitForAllCarried } from '../../helpers/checks.js';

const running: NqgwProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
});

/**
 * kill -9 at random instants while the broker's program appends: after the last restart, every
 * order is at the main station exactly once and every return in NQHB.DBF exactly once.
 */
describe('crash safety', () => {
  it('loses and duplicates nothing across repeated SIGKILLs under load', async () => {
    const lab = await makeLab();
    running.push(startSim(lab));
    const admin = await simReady(lab);
    const total = 9000;
    const feeder = new NqgwProcess([
      'feed',
      '--config',
      lab.twIni,
      '--count',
      String(total),
      '--rate',
      '1500',
    ]);
    running.push(feeder);

    const kills = 8;
    for (let i = 0; i < kills; i++) {
      const gateway = startGateway(lab);
      running.push(gateway);
      await gateway.waitFor(/欢迎使用/);
      await new Promise((r) => setTimeout(r, 150 + Math.floor(Math.random() * 700)));
      await gateway.stop('SIGKILL');
    }
    const feederCode = await feeder.exited;
    expect(feederCode, `feeder: signal ${feeder.child.signalCode} output ${feeder.output.slice(-2000)}`).toBe(
      0,
    );

    const last = startGateway(lab);
    running.push(last);
    await last.waitFor(/小站端与服务器连接成功/);
    await waitForAllCarried(lab, admin, total);
    const lastCode = await last.stop();
    expect(lastCode, `gateway: ${last.child.signalCode} ${last.output.slice(-1500)}`).toBe(0);

    await expectExactlyOnce(lab, admin, total);
    const station = await admin.station(lab.station);
    // The resend path was exercised: some possible duplicates reached the simulator and were dropped.
    expect(station.rejected).toBe(0);
    process.stdout.write(
      `crash test: ${kills} kills, duplicates dropped by the simulator: ${station.duplicatesDropped}\n`,
    );
  });
});
