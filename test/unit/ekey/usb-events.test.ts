import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { afterEach, describe, expect, it } from 'vitest';
import {
  importUsbPackage,
  openUsbEventSource,
  type UsbEventDevice,
} from '../../../appliance/src/ekey/index.js';
import { REPO } from '../../helpers/process.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('openUsbEventSource', () => {
  it('loads the real usb package here and gives a source whose listeners come and go', async () => {
    const opened = await openUsbEventSource();
    // No USB devices exist on the test machine; the package and libusb still load and init.
    if (opened.source === null) throw new Error(`usb did not load: ${opened.reason}`);
    const seen: UsbEventDevice[] = [];
    const listener = (d: UsbEventDevice): void => void seen.push(d);
    opened.source.on('attach', listener);
    opened.source.on('detach', listener);
    // Through the module's own importer, so this file type-checks where the optional package is absent.
    const { usb } = (await importUsbPackage()) as { usb: NodeJS.EventEmitter };
    expect(usb.listenerCount('attach')).toBe(1);
    expect(usb.listenerCount('detach')).toBe(1);
    // What TokenWatcher relies on: an event with a device descriptor reaches the listener.
    usb.emit('attach', { deviceDescriptor: { idVendor: 0x096e, idProduct: 0x0703 } });
    expect(seen).toEqual([{ deviceDescriptor: { idVendor: 0x096e, idProduct: 0x0703 } }]);
    opened.source.off('attach', listener);
    expect(usb.listenerCount('attach')).toBe(0);
    opened.close();
    expect(usb.listenerCount('detach')).toBe(0);
    // After close the source adds nothing (it would restart libusb's hotplug thread).
    opened.source.on('attach', listener);
    expect(usb.listenerCount('attach')).toBe(0);
  });

  it('does not keep a process alive after close() (nor with a listener left, being unreferenced)', async () => {
    // The module under test, transpiled to plain ESM in a temp dir whose node_modules points at
    // the repo's, so the child resolves 'usb' through the default importer exactly as the appliance.
    const dir = mkdtempSync(join(tmpdir(), 'nqgw-usb-'));
    dirs.push(dir);
    const src = readFileSync(join(REPO, 'appliance/src/ekey/usb-events.ts'), 'utf8');
    const js = ts.transpileModule(src, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    writeFileSync(join(dir, 'usb-events.mjs'), js);
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(join(REPO, 'node_modules', 'usb'), join(dir, 'node_modules', 'usb'));
    const child = (mode: 'close' | 'leave'): Promise<{ code: number | null; ms: number; out: string }> => {
      const script = `
        import { openUsbEventSource } from './usb-events.mjs';
        const o = await openUsbEventSource();
        if (!o.source) { console.log('NOSOURCE ' + o.reason); process.exit(3); }
        o.source.on('attach', () => {});
        o.source.on('detach', () => {});
        if (${JSON.stringify(mode)} === 'close') o.close();
        console.log('READY');`;
      const t0 = Date.now();
      const p = spawn(process.execPath, ['--input-type=module', '-e', script], {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      p.stdout.on('data', (c: Buffer) => (out += c.toString()));
      p.stderr.on('data', (c: Buffer) => (out += c.toString()));
      return new Promise((resolve) => {
        // A held event loop would never end on its own: kill it after 5 s and fail below.
        const killer = setTimeout(() => p.kill('SIGKILL'), 5000);
        p.on('exit', (code) => {
          clearTimeout(killer);
          resolve({ code, ms: Date.now() - t0, out });
        });
      });
    };
    const closed = await child('close');
    expect(closed.out).toContain('READY');
    expect(closed.code, closed.out).toBe(0);
    expect(closed.ms).toBeLessThan(5000);
    const left = await child('leave');
    expect(left.out).toContain('READY');
    expect(left.code, left.out).toBe(0);
  });

  it('gives {source: null, reason} when the native module cannot be loaded', async () => {
    const failed = await openUsbEventSource(() =>
      Promise.reject(new Error('libudev.so.1: cannot open shared object file')),
    );
    expect(failed.source).toBeNull();
    if (failed.source === null) {
      expect(failed.reason).toContain('libudev.so.1');
      expect(failed.reason).toMatch(/polled only/);
    }
  });

  it('gives {source: null, reason} for a module without the v2 usb emitter or with libusb not initialized', async () => {
    const v1 = await openUsbEventSource(() => Promise.resolve({ default: { getDeviceList: () => [] } }));
    expect(v1).toMatchObject({ source: null, reason: expect.stringMatching(/no usb event emitter/) });
    const noInit = await openUsbEventSource(() =>
      Promise.resolve({ usb: { on: () => undefined, off: () => undefined, INIT_ERROR: -99 } }),
    );
    expect(noInit).toMatchObject({
      source: null,
      reason: expect.stringMatching(/libusb could not be initialized/),
    });
  });
});
