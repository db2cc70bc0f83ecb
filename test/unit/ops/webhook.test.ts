import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebhookSink } from '../../../appliance/src/ops/index.js';
import { waitUntil } from '../../helpers/process.js';

const servers: http.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function receiver(failFirst: number): Promise<{ url: string; got: unknown[]; hits: () => number }> {
  const got: unknown[] = [];
  let hits = 0;
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      hits++;
      if (hits <= failFirst) {
        res.statusCode = 503;
        res.end();
        return;
      }
      got.push(JSON.parse(body));
      res.end('{}');
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got, hits: () => hits };
}

describe('WebhookSink', () => {
  it('queues without blocking, retries failures and delivers in order', async () => {
    const r = await receiver(2);
    const sink = new WebhookSink({ url: r.url, initialDelayMs: 10 });
    sink.send({ n: 1 });
    sink.send({ n: 2 });
    // send() only queues: nothing has gone out when it returns.
    expect(sink.backlog).toBe(2);
    expect(r.hits()).toBe(0);
    await waitUntil(() => sink.delivered === 2, 'two delivered');
    expect(r.got).toEqual([{ n: 1 }, { n: 2 }]);
    expect(r.hits()).toBe(4);
    sink.stop();
  });

  it('gives up after its attempts on a dead receiver, says so, and bounds its queue', async () => {
    const gaveUp: string[] = [];
    const sink = new WebhookSink({
      url: 'http://127.0.0.1:1/none',
      attempts: 2,
      initialDelayMs: 5,
      maxQueue: 3,
      onGiveUp: (_p, err) => gaveUp.push(err),
    });
    for (let i = 0; i < 6; i++) sink.send({ i });
    expect(sink.dropped).toBe(3);
    await waitUntil(() => sink.failed === 3, 'all given up');
    expect(gaveUp).toHaveLength(3);
    expect(sink.backlog).toBe(0);
    sink.stop();
  });
});
