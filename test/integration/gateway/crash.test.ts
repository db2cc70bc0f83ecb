import { afterEach, describe, expect, it } from 'vitest';
import { makeLab, simReady, startGateway, startSim } from '../../helpers/lab.js';
import { NqgwProcess, waitUntil } from '../../helpers/process.js';
import { expectExactlyOnce, waitForAllCarried } from '../../helpers/checks.js';
import { readStatusSnapshot, type GatewayStatus } from '../../../appliance/src/gateway/index.js';

const running: NqgwProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
});

/**
 * kill -9 while orders are in flight and the broker's program appends: after the last restart,
 * every order is at the main station exactly once and every return in NQHB.DBF exactly once, and
 * the resend path has really run (possible duplicates reached the main station and were dropped).
 */
describe('crash safety', () => {
  it(
    'loses and duplicates nothing across repeated SIGKILLs with orders in flight',
    { timeout: 240_000 },
    async () => {
      const lab = await makeLab();
      running.push(startSim(lab));
      const admin = await simReady(lab);
      // The broker's program appends all along: a feeder at a time (never two at once), and a new
      // one whenever the last has finished while a kill is waited for, so orders are still coming
      // at every kill however slow this machine is. Serial numbers continue across feeders; `total` counts what was fed.
      let total = 0;
      let feeder: NqgwProcess | null = null;
      const keepFeeding = async (count: number): Promise<void> => {
        if (feeder && feeder.child.exitCode === null && feeder.child.signalCode === null) return;
        if (feeder) expect(await feeder.exited, `feeder: ${feeder.output.slice(-2000)}`).toBe(0);
        feeder = new NqgwProcess(['feed', '--config', lab.twIni, '--count', String(count), '--rate', '800']);
        running.push(feeder);
        total += count;
      };
      await keepFeeding(2400);

      const kills = 8;
      let inFlightAtKill = 0;
      for (let i = 0; i < kills; i++) {
        const gateway = startGateway(lab);
        running.push(gateway);
        const status = (want: (s: GatewayStatus) => boolean, what: string): Promise<GatewayStatus> =>
          waitUntil(
            async () => {
              await keepFeeding(800);
              const s = await readStatusSnapshot(lab.stateDir);
              return s !== null && s.pid === gateway.child.pid && want(s) && s;
            },
            `gateway ${i + 1}: ${what}`,
            30_000,
            10,
          );
        // This gateway is logged on (status.json, written every 500 ms by the running gateway;
        // `nqgw status` reads the same file).
        await status((s) => s.linkState === '正常', 'logged on');
        if (i % 2 === 1) {
          // Every other kill falls in a window that is certainly open: the main station takes
          // nothing and answers nothing for a while, so what the gateway sends stays unanswered
          // (the simulator reads it when the silence ends, before it sees the connection gone).
          await admin.post('/faults/silence', { station: lab.station, ms: 1500 });
        }
        const snapshot = await status((s) => s.awaitingAnswer > 0, 'orders sent and not yet answered');
        inFlightAtKill += snapshot.awaitingAnswer;
        await gateway.stop('SIGKILL');
        // The next gateway logs on once the main station has let the dead session go.
        await waitUntil(async () => !(await admin.station(lab.station)).connected, 'session closed', 30_000);
      }
      const lastFeeder = feeder as NqgwProcess | null;
      expect(await lastFeeder!.exited, `feeder: ${lastFeeder!.output.slice(-2000)}`).toBe(0);

      const last = startGateway(lab);
      running.push(last);
      await last.waitFor(/小站端与服务器连接成功/);
      await waitForAllCarried(lab, admin, total);
      const lastCode = await last.stop();
      expect(lastCode, `gateway: ${last.child.signalCode} ${last.output.slice(-1500)}`).toBe(0);

      await expectExactlyOnce(lab, admin, total);
      const station = await admin.station(lab.station);
      expect(station.rejected).toBe(0);
      // The resend path ran: orders the gateway had sent but not seen answered when it was killed
      // went again with the possible-duplicate flag, and the main station dropped them as such.
      expect(station.duplicatesDropped, 'possible duplicates dropped by the main station').toBeGreaterThan(0);
      process.stdout.write(
        `crash test: ${kills} kills, ${total} orders, ${inFlightAtKill} orders awaiting answer at the kills (last snapshots), duplicates dropped by the simulator: ${station.duplicatesDropped}\n`,
      );
    },
  );
});
