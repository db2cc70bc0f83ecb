import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { REPO, waitUntil } from '../../helpers/process.js';

/**
 * image/files/nqgw-usbip.sh `watch` (what nqgw-usbip.service runs): a dropped USB/IP connection
 * is attached again. The kernel side (vhci-hcd, a usbip server) cannot run here, so `usbip` is a
 * test double on PATH with the same command line and `usbip port` output format; it keeps the
 * "attached" state in a file the test removes to play a network drop.
 */
const SCRIPT = path.join(REPO, 'image', 'files', 'nqgw-usbip.sh');
let dir = '';
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function fakeUsbip(bin: string, state: string, attempts: string, failFirst: number): void {
  writeFileSync(
    path.join(bin, 'usbip'),
    `#!/usr/bin/env bash
case "$1" in
  port)
    echo "Imported USB devices"
    echo "===================="
    if [[ -f ${state} ]]; then
      echo "Port 00: <Port in Use> at Full Speed(12Mbps)"
      echo "       Feitian Technologies, Inc. : ePass3003 (096e:0703)"
      echo "       3-1 -> usbip://$(cat ${state})"
    fi ;;
  attach)
    n=$(( $(cat ${attempts} 2>/dev/null || echo 0) + 1 )); echo $n > ${attempts}
    if (( n <= ${failFirst} )); then echo "usbip: error: tcp connect" >&2; exit 1; fi
    host=\${2#--remote=}; busid=\${3#--busid=}
    echo "$host:3240/$busid" > ${state} ;;
  *) exit 2 ;;
esac
`,
  );
  chmodSync(path.join(bin, 'usbip'), 0o755);
}

describe('nqgw-usbip.sh watch: keeps the EKey attached over USB/IP', () => {
  it('attaches at start (retrying a failed attach), and again after the connection drops', async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'nqgw-usbip-'));
    const state = path.join(dir, 'attached');
    const attempts = path.join(dir, 'attempts');
    fakeUsbip(dir, state, attempts, 1);
    const child = spawn('bash', [SCRIPT, 'watch'], {
      env: {
        ...process.env,
        PATH: `${dir}:${process.env['PATH'] ?? ''}`,
        USBIP_SERVER: '10.80.3.5',
        USBIP_BUSID: '1-1',
        USBIP_CHECK_S: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    try {
      // The first attach fails (server not up yet): tried again a second later.
      await waitUntil(() => existsSync(state), 'attached after one failed try', 10_000);
      expect(readFileSync(attempts, 'utf8').trim()).toBe('2');
      // Attached through the tunnel's local end, never straight to the USB host.
      expect(readFileSync(state, 'utf8').trim()).toBe('127.0.0.1:3240/1-1');
      expect(out).toMatch(/attach failed \(is nqgw-usbip-tunnel running\? .*\); next try in 1 s/);
      await waitUntil(
        () => out.includes('1-1 from 10.80.3.5 (through the tunnel) attached'),
        'reported attached',
        5000,
      );

      rmSync(state); // the USB/IP connection drops
      await waitUntil(() => existsSync(state), 're-attached after the drop', 10_000);
      expect(readFileSync(attempts, 'utf8').trim()).toBe('3');
      expect(out.match(/is not attached; attaching/g)?.length).toBe(2);
    } finally {
      child.kill('SIGTERM');
    }
  }, 30_000);

  it('refuses a USBIP_CHECK_S that is not whole seconds', async () => {
    const code = await new Promise<number | null>((resolve) => {
      const c = spawn('bash', [SCRIPT, 'watch'], {
        env: { ...process.env, USBIP_SERVER: 'h', USBIP_BUSID: '1-1', USBIP_CHECK_S: '0.5' },
        stdio: 'ignore',
      });
      c.on('exit', resolve);
    });
    expect(code).toBe(64);
  });
});
