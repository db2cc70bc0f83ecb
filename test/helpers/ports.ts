import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import * as net from 'node:net';
import os from 'node:os';
import path from 'node:path';

/**
 * A loopback TCP port for a server that cannot be given port 0 and read back (sshd, ceph-mon,
 * a packer ssh target). Servers we write ourselves listen on port 0 and report the real port.
 *
 * A port the kernel hands out for port 0 comes from the ephemeral range (32768-60999 here), where
 * any outgoing connection may take it again between our close and the server's bind. So the port
 * is drawn from below that range, and reserved machine-wide by a file named after it (O_EXCL, with
 * our pid in it) so that a second copy of the suite running at the same time never draws it too;
 * a reservation whose pid is gone is taken back. Reservations are removed when this process exits.
 */
const LOW = 20_000;
const HIGH = 32_000;
const DIR = path.join(os.tmpdir(), 'nqgw-test-ports');
const mine = new Set<number>();
let cleanupArmed = false;

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function reserve(port: number): boolean {
  const file = path.join(DIR, String(port));
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o644);
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let holder = NaN;
      try {
        holder = Number(readFileSync(file, 'utf8'));
      } catch {
        continue; // removed in between: try again
      }
      // A holder still writing its pid reads as NaN: leave it alone.
      if (!Number.isInteger(holder) || holder <= 0 || pidAlive(holder)) return false;
      try {
        unlinkSync(file);
      } catch {
        // Someone else took it back first.
      }
    }
  }
  return false;
}

function listensFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function armCleanup(): void {
  if (cleanupArmed) return;
  cleanupArmed = true;
  process.once('exit', () => {
    for (const port of mine) {
      try {
        unlinkSync(path.join(DIR, String(port)));
      } catch {
        // Already gone.
      }
    }
  });
}

export async function freePort(): Promise<number> {
  mkdirSync(DIR, { recursive: true, mode: 0o1777 });
  armCleanup();
  for (let tries = 0; tries < 200; tries++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW));
    if (mine.has(port) || !reserve(port)) continue;
    mine.add(port);
    // Reserved by us but perhaps used by something outside the suite: keep the reservation (so no
    // copy of the suite tries it again) and draw another.
    if (await listensFree(port)) return port;
  }
  throw new Error(`freePort: no free port between ${LOW} and ${HIGH} after 200 draws (see ${DIR})`);
}
