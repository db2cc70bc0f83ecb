import { describe, expect, it } from 'vitest';
import { OrderFileAppender } from '../../../appliance/src/dbf/index.js';
import { makeOrder } from '../../../appliance/src/lab/index.js';
import { LogService } from '../../../appliance/src/logs/index.js';
import { makeLab, simReady, startGateway, startSim } from '../../helpers/lab.js';
import { NqgwProcess, waitUntil } from '../../helpers/process.js';
import { S3Lab } from '../../helpers/s3.js';
import { tempDir, testSettings } from '../../unit/logs/fixtures.js';
import { shippingLab } from './harness.js';

/**
 * Figures, not checks: run with `LOGS_BENCH=1 npx vitest run test/integration/logs/measure.test.ts`.
 * 1. lines/s the writer + shipper sustain to s3rver (write N lines, stop, time until all shipped);
 * 2. gateway throughput (nqgw feed as fast as it can, time until the simulator took them all)
 *    with local structured logs only and with shipping to s3rver.
 */
describe.skipIf(!process.env['LOGS_BENCH'])('log shipping figures', () => {
  it('shipper lines/s', async () => {
    const s3 = await S3Lab.start();
    try {
      const n = 200_000;
      const service = new LogService({
        settings: testSettings(tempDir(), s3, { host: 'bench', segmentMaxBytes: 4 * 1024 * 1024 }),
      });
      service.start();
      const t0 = performance.now();
      for (let i = 0; i < n; i++) {
        // The segment writer drains between turns of the event loop (its queue holds 4 MiB): a
        // gateway logs across turns, so the bench yields every 1000 lines as the gateway would.
        if (i % 1000 === 999) await new Promise((r) => setImmediate(r));
        service.log({
          time: Date.now(),
          level: 'info',
          code: 'NQ401',
          text: `委托第 ${i} 笔交易单元 '999999' 错!`,
        });
      }
      const written = performance.now() - t0;
      expect(await service.stop(120_000)).toBe(true);
      expect(service.metrics().linesDropped).toBe(0);
      const total = performance.now() - t0;
      const m = service.metrics();
      process.stdout.write(
        `LOGS_BENCH shipper: ${n} lines, written ${Math.round(n / (written / 1000))} lines/s, written+shipped ${Math.round(n / (total / 1000))} lines/s, ${m.objectsShipped} objects, ${m.linesDropped} dropped\n`,
      );
    } finally {
      await s3.stop();
    }
  }, 180_000);

  it.each([
    ['local', 1],
    ['shipping', 1],
    ['local', 5],
    ['shipping', 5],
  ])(
    'gateway throughput, logs %s, 1 in %d orders refused and logged (1: none)',
    async (mode, badEvery) => {
      const s3 = await S3Lab.start();
      const procs: NqgwProcess[] = [];
      try {
        const lab =
          mode === 'shipping'
            ? await shippingLab(s3, 'bench-gw', { segment_max_bytes: '8388608', segment_max_s: '60' })
            : await makeLab();
        procs.push(startSim(lab));
        const admin = await simReady(lab);
        const gateway = startGateway(lab);
        procs.push(gateway);
        await gateway.waitFor(/登录成功/);
        const count = 40_000;
        const t0 = performance.now();
        let good = count;
        if (badEvery === 1) {
          procs.push(new NqgwProcess(['feed', '--config', lab.twIni, '--count', String(count)]));
        } else {
          const appender = await OrderFileAppender.open(lab.orders);
          const rows = [];
          for (let i = 1; i <= count; i++) {
            const bad = i % badEvery === 0;
            if (bad) good--;
            rows.push(makeOrder(bad ? '999999' : lab.units[i % lab.units.length]!, i, Date.now()));
          }
          for (let i = 0; i < rows.length; i += 2000) await appender.append(rows.slice(i, i + 2000));
          await appender.close();
        }
        await waitUntil(
          async () => (await admin.station(lab.station)).ordersTaken >= good,
          'all taken',
          120_000,
          20,
        );
        const s = (performance.now() - t0) / 1000;
        process.stdout.write(
          `LOGS_BENCH gateway (${mode}, ${count - good} refusal lines): ${count} orders in ${s.toFixed(2)} s = ${Math.round(count / s)} orders/s\n`,
        );
        expect(await gateway.stop()).toBe(0);
      } finally {
        await Promise.all(procs.map((p) => p.stop('SIGKILL')));
        await s3.stop();
      }
    },
    180_000,
  );
});
