import net from 'node:net';

/**
 * A TCP forwarder on loopback standing for a second address of the same main station (the
 * vendor lists several sites that share one back end). Closing it is "this server is down".
 */
export class TcpForwarder {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  constructor(
    private readonly targetPort: number,
    private readonly targetHost = '127.0.0.1',
  ) {}

  async start(port = 0): Promise<number> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, this.targetHost);
      this.sockets.add(client).add(upstream);
      const drop = (): void => {
        client.destroy();
        upstream.destroy();
        this.sockets.delete(client);
        this.sockets.delete(upstream);
      };
      client.pipe(upstream).pipe(client);
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this.port;
  }

  /** Stop listening and cut every connection through it. */
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = null;
  }
}

/** A loopback port with nothing listening on it (connections are refused). */
export async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * A store that stalls, on loopback. 'silent': accepts every connection, reads what comes, never
 * answers. 'headers': answers HEAD with a bodiless 404 (so the shipper goes on to PUT) and every
 * other request with 200 headers announcing a 4 KiB body, sends a few bytes of it, then stalls.
 * `requests` counts requests seen ('headers') or connections accepted ('silent').
 */
export class StallingStore {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  requests = 0;
  port = 0;

  constructor(readonly mode: 'silent' | 'headers') {}

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    if (this.mode === 'silent') {
      this.server = net.createServer((socket) => {
        this.requests++;
        this.track(socket);
        socket.resume();
      });
    } else {
      const http = await import('node:http');
      const server = http.createServer((req, res) => {
        this.requests++;
        req.resume();
        if (req.method === 'HEAD') {
          res.writeHead(404, { 'content-length': '0' });
          res.end();
          return;
        }
        res.writeHead(200, { 'content-type': 'application/xml', 'content-length': '4096' });
        res.write('<?xml version="1.0"');
      });
      server.on('connection', (socket: net.Socket) => this.track(socket));
      this.server = server;
    }
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server!.address() as net.AddressInfo).port;
  }

  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => this.sockets.delete(socket));
  }

  /** Connections still open (a client that gave up closes its side). */
  get openConnections(): number {
    return this.sockets.size;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = null;
  }
}
