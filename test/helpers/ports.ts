import * as net from 'node:net';

/**
 * A loopback TCP port the kernel had free a moment ago: bound on port 0, then closed, so nothing
 * listens on it now (a refused connection), and a server that cannot take port 0 may bind it.
 */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
