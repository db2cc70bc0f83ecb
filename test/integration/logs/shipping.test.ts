import { afterEach, describe, expect, it } from 'vitest';
import { simReady, startGateway, startSim } from '../../helpers/lab.js';
import { waitUntil, type NqgwProcess } from '../../helpers/process.js';
import { readShipped, describeEachStore } from '../../helpers/s3.js';
import { asStdoutForm, localLogLines, OrderLoad, shippingLab, stdoutLines } from './harness.js';

const running: NqgwProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Against s3rver and a real S3 implementation (one-node Ceph; skipped, saying why, without it). */
describeEachStore((s3) => {
  describe('log shipping beside a real gateway', () => {
    it('store away under load and back: every logged line is in object storage exactly once', async () => {
      const lab = await shippingLab(s3, 'it-outage');
      running.push(startSim(lab));
      await simReady(lab);
      const gateway = startGateway(lab);
      running.push(gateway);
      await gateway.waitFor(/小站端与服务器连接成功/);
      const load = new OrderLoad(lab);
      load.start();
      await sleep(2500);
      await s3.stopStore();
      await sleep(4000);
      await s3.startStore();
      s3.proxy.fault(503, 'reset-mid-body', { slowMs: 800 }, 500);
      s3.proxy.faultPuts('commit-drop', 'reset-mid-body');
      await sleep(2500);
      await load.stop();
      await waitUntil(
        () => stdoutLines(gateway.output).filter((l) => l.includes("'999999'")).length >= load.bad,
        'every refusal logged',
        30_000,
      );
      expect(await gateway.stop()).toBe(0);

      const local = localLogLines(lab);
      const { keys, lines } = await readShipped(s3, 'nqgw/W888888T/it-outage/');
      expect(keys.length).toBeGreaterThan(5);
      expect(lines, 'shipped == local, line by line').toEqual(local);
      expect(new Set(lines).size).toBe(lines.length);
      // What the gateway said on stdout is what was shipped (the shipper's own alarms included).
      expect(lines.map(asStdoutForm)).toEqual(stdoutLines(gateway.output));
      const refusals = lines.filter((l) => l.includes("交易单元 '999999'") || l.includes('999999'));
      expect(refusals.length).toBeGreaterThanOrEqual(load.bad);
      expect(gateway.output).toMatch(/logs: flushed; shipped \d+, failures [1-9]\d*, dropped 0/);
    });

    it('kill -9 mid-upload, then restart: nothing lost, nothing duplicated', async () => {
      const lab = await shippingLab(s3, 'it-kill');
      running.push(startSim(lab));
      await simReady(lab);
      const first = startGateway(lab);
      running.push(first);
      await first.waitFor(/小站端与服务器连接成功/);
      const load = new OrderLoad(lab, 10, 3);
      load.start();
      await sleep(2000);
      // Uploads now hang in the proxy or commit and lose their answer; kill while they do.
      s3.proxy.standing = { slowMs: 3000 };
      s3.proxy.faultPuts('commit-drop', 'commit-drop');
      await sleep(1500);
      const putsBefore = s3.proxy.seen.filter((r) => r.method === 'PUT' && r.url.includes('it-kill')).length;
      await first.stop('SIGKILL');
      expect(putsBefore).toBeGreaterThan(0);
      s3.proxy.standing = 'pass';
      const firstLines = stdoutLines(first.output);

      const second = startGateway(lab);
      running.push(second);
      await second.waitFor(/小站端与服务器连接成功/);
      await sleep(2000);
      await load.stop();
      await sleep(1500);
      expect(await second.stop()).toBe(0);

      const local = localLogLines(lab);
      const { lines } = await readShipped(s3, 'nqgw/W888888T/it-kill/');
      expect(lines).toEqual(local);
      expect(new Set(lines).size).toBe(lines.length);
      const shippedForms = lines.map(asStdoutForm);
      const secondLines = stdoutLines(second.output);
      const firstShipped = shippedForms.length - secondLines.length;
      expect(shippedForms.slice(firstShipped)).toEqual(secondLines);
      // SIGKILL loses the lines echoed on stdout but still queued for the segment: the segment
      // is written off the event loop (one write at a time, docs/logs.md step 3), so the lines
      // logged while the last write was in flight die with the process (seen: up to 3). A few,
      // never a gap: everything before them is shipped, once.
      expect(firstLines.length - firstShipped, 'lines echoed but not logged at the kill').toBeLessThanOrEqual(
        20,
      );
      expect(shippedForms.slice(0, firstShipped), "the killed gateway's lines, all there").toEqual(
        firstLines.slice(0, firstShipped),
      );
    });
  });
});
