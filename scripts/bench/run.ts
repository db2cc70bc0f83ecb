import { tlsEchoBaseline } from './baseline.js';
import { latency, throughput } from './scenarios.js';

/**
 * `npm run bench`: the gateway's figures on this machine, as JSON on stdout. Every scenario
 * starts real simulator and gateway processes on a fresh loopback lab. Sizes can be scaled down
 * with BENCH_SCALE (e.g. 0.1) for a quick look; the quoted figures use the defaults.
 */
const scale = Number(process.env['BENCH_SCALE'] ?? '1');
const n = (x: number): number => Math.max(2000, Math.round((x * scale) / 2000) * 2000);

const results: Record<string, unknown> = {
  machine: {
    cpus: (await import('node:os')).cpus().length,
    node: process.version,
    at: new Date().toISOString(),
  },
};
const step = async (name: string, run: () => Promise<unknown>): Promise<void> => {
  process.stderr.write(`bench: ${name} ...\n`);
  results[name] = await run();
};
await step('tlsEchoBaseline', () => tlsEchoBaseline(n(200_000)));
await step('throughput', () => throughput(n(100_000)));
await step('latencyAt2000', () => latency(2000, Math.max(2, Math.round(10 * scale))));
await step('latencyAt2000With1MRecordFile', () =>
  latency(2000, Math.max(2, Math.round(10 * scale)), n(1_000_000)),
);
// The EKey's path: the station key on a SoftHSM2 token, the TLS in a helper process (docs/ekey.md).
await step('throughputEkey', () => throughput(n(100_000), { ekey: 'softhsm' }));
await step('latencyAt2000Ekey', () =>
  latency(2000, Math.max(2, Math.round(10 * scale)), 0, { ekey: 'softhsm' }),
);
const t = results['throughput'] as { ordersPerSecond: number };
const b = results['tlsEchoBaseline'] as { framesPerSecond: number };
results['throughputVsTlsEcho'] = Math.round((t.ordersPerSecond / b.framesPerSecond) * 1000) / 1000;
process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
