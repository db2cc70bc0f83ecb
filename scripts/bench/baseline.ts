import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { encodeOrders } from '../../appliance/src/link/index.js';
import { initLab, makeOrder } from '../../appliance/src/lab/index.js';
import { toOrderBody } from '../../appliance/src/gateway/index.js';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The ceiling: Node's own TLS on loopback, a server echoing every byte, the client sending the
 * same order frames the gateway sends (2,000 per write) and counting them back. Nothing is
 * stored, validated or written to a file; the gateway's figure divided by this one says how
 * much of the machine the gateway's own work takes.
 */
export async function tlsEchoBaseline(total: number): Promise<Record<string, number>> {
  const lab = await initLab(mkdtempSync(path.join(os.tmpdir(), 'nqgw-echo-')));
  const server = tls.createServer(
    {
      key: readFileSync(lab.pki.serverKey),
      cert: readFileSync(lab.pki.serverCert),
      ca: readFileSync(lab.pki.caCert),
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
    },
    (socket) => socket.pipe(socket),
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const batch = 2000;
  const frame = encodeOrders(
    Array.from({ length: batch }, (_, i) => ({
      body: toOrderBody(makeOrder('729900', i + 1, Date.now()), i + 1),
      possDup: false,
    })),
    1,
  );
  const socket = tls.connect({
    host: '127.0.0.1',
    port,
    servername: lab.serverName,
    ca: readFileSync(lab.pki.caCert),
    cert: readFileSync(lab.pki.stationCert),
    key: readFileSync(lab.pki.stationKey),
  });
  await new Promise<void>((r) => socket.once('secureConnect', () => r()));
  const expected = (total / batch) * frame.length;
  let received = 0;
  const started = performance.now();
  const done = new Promise<void>((resolve) =>
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received >= expected) resolve();
    }),
  );
  for (let sent = 0; sent < total; sent += batch) {
    if (!socket.write(frame)) await new Promise((r) => socket.once('drain', r));
  }
  await done;
  const elapsed = performance.now() - started;
  socket.destroy();
  await new Promise((r) => server.close(r));
  return {
    frames: total,
    frameBytes: Math.round(frame.length / batch),
    framesPerSecond: Math.round(total / (elapsed / 1000)),
  };
}
