import { readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { setIni, simReady, startGateway, startSim } from '../../helpers/lab.js';
import { waitUntil, type NqgwProcess } from '../../helpers/process.js';
import { StallingStore } from '../../helpers/proxy.js';
import { readShipped, S3Lab } from '../../helpers/s3.js';
import { asStdoutForm, localLogLines, OrderLoad, shippingLab, stdoutLines } from './harness.js';

let s3: S3Lab;
const running: NqgwProcess[] = [];
const stalls: StallingStore[] = [];
beforeAll(async () => {
  s3 = await S3Lab.start();
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.stop('SIGKILL')));
  await Promise.all(stalls.splice(0).map((s) => s.stop()));
});
afterAll(async () => {
  await s3.stop();
});

const FLUSH_S = 3;
/** The gateway's own stop (link, files) before the log service's; generous for a 2-core box. */
const MARGIN_MS = 3500;

/** SIGTERM, then how long until the process is gone (null: still running after `limitMs`). */
async function sigtermExit(
  p: NqgwProcess,
  limitMs: number,
): Promise<{ ms: number; code: number | null } | null> {
  const t0 = performance.now();
  p.child.kill('SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([
    p.exited,
    new Promise<'late'>((r) => (timer = setTimeout(() => r('late'), limitMs))),
  ]);
  clearTimeout(timer);
  return code === 'late' ? null : { ms: performance.now() - t0, code };
}

describe.each(['silent', 'headers'] as const)('nqgw run with a store that stalls (%s)', (mode) => {
  it('SIGTERM exits within flush_timeout_s, archive included; the spool keeps what was not shipped; the next run ships it once', async () => {
    const stall = new StallingStore(mode);
    await stall.start();
    stalls.push(stall);
    const host = `it-stall-${mode}`;
    // request_timeout_s far beyond the flush: only the stop's deadline can end the stalled request.
    const lab = await shippingLab(s3, host, {
      flush_timeout_s: String(FLUSH_S),
      request_timeout_s: '120',
      archive_after: '00:00',
    });
    setIni(lab.twIni, 'logs', 'endpoint', stall.endpoint);
    running.push(startSim(lab));
    await simReady(lab);
    const first = startGateway(lab);
    running.push(first);
    await first.waitFor(/小站端与服务器连接成功/);
    const load = new OrderLoad(lab, 10, 4);
    load.start();
    await waitUntil(() => stall.requests > 0 && load.bad > 0, 'the shipper reached the store', 10_000);
    await load.stop();
    await waitUntil(
      () => stdoutLines(first.output).filter((l) => l.includes("'999999'")).length >= load.bad,
      'every refusal logged',
      20_000,
    );

    const exit = await sigtermExit(first, (FLUSH_S + 20) * 1000);
    expect(exit, `still running 20 s past flush_timeout_s:\n${first.output.slice(-1500)}`).not.toBeNull();
    process.stdout.write(
      `STALL ${mode}: SIGTERM to exit ${Math.round(exit!.ms)} ms (flush_timeout_s ${FLUSH_S})\n`,
    );
    expect(exit!.code).toBe(0);
    expect(exit!.ms).toBeLessThan(FLUSH_S * 1000 + MARGIN_MS);
    expect(first.output).toMatch(/logs: NOT all shipped, kept in spool; shipped 0,/);
    expect(first.output).toMatch(/archive failed: 对象存储请求(超时|已中止)/);
    const spooled = readdirSync(path.join(lab.stateDir, 'logs', 'spool')).filter((n) =>
      n.endsWith('.jsonl.gz'),
    );
    expect(spooled.length).toBeGreaterThan(0);

    // The store is back (s3rver): the next run ships the first run's lines and its own, once.
    setIni(lab.twIni, 'logs', 'endpoint', s3.endpoint);
    setIni(lab.twIni, 'logs', 'archive_after', '');
    setIni(lab.twIni, 'logs', 'flush_timeout_s', '30');
    const second = startGateway(lab);
    running.push(second);
    await second.waitFor(/小站端与服务器连接成功/);
    expect(await second.stop()).toBe(0);
    const { lines } = await readShipped(s3, `nqgw/W888888T/${host}/`);
    expect(lines).toEqual(localLogLines(lab));
    expect(new Set(lines).size).toBe(lines.length);
    const firstLines = stdoutLines(first.output);
    expect(lines.map(asStdoutForm).slice(0, firstLines.length)).toEqual(firstLines);
  });
});
