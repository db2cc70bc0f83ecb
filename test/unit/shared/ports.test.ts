import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { freePort } from '../../helpers/ports.js';

describe('freePort (test/helpers/ports.ts)', () => {
  it('hands out distinct bindable ports below the ephemeral range, each reserved under our pid', async () => {
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    expect(new Set(ports).size).toBe(20);
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(20_000);
      expect(port).toBeLessThan(32_768);
      expect(readFileSync(path.join(os.tmpdir(), 'nqgw-test-ports', String(port)), 'utf8')).toBe(
        String(process.pid),
      );
    }
    // And a server can really take one.
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(ports[0], '127.0.0.1', resolve);
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});
