import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { listEkeyUsbDevices } from '../../../appliance/src/ekey/index.js';

let sysfs: string;
beforeEach(() => {
  sysfs = mkdtempSync(join(tmpdir(), 'nqgw-sysfs-'));
});
afterEach(() => rmSync(sysfs, { recursive: true, force: true }));

function device(name: string, attrs: Record<string, string>): void {
  mkdirSync(join(sysfs, name));
  for (const [k, v] of Object.entries(attrs)) writeFileSync(join(sysfs, name, k), v + '\n');
}

describe('EKey USB devices from sysfs', () => {
  it('lists Feitian and G+D devices, and configured ids, and nothing else', () => {
    device('1-1', {
      idVendor: '096e',
      idProduct: '0304',
      manufacturer: 'FT',
      product: 'ePass3003Auto',
      serial: 'A1',
    });
    device('1-2', { idVendor: '1059', idProduct: '000b', product: 'StarSign' });
    device('1-3', { idVendor: '046d', idProduct: 'c52b', product: 'mouse' });
    device('1-4', { idVendor: 'abcd', idProduct: '0001', product: 'other token' });
    device('usb1', { idVendor: '1d6b', idProduct: '0002' });
    mkdirSync(join(sysfs, '1-0:1.0'));
    const found = listEkeyUsbDevices(['abcd:0001'], sysfs);
    expect(found.map((d) => [d.port, d.vendor, d.product])).toEqual([
      ['1-1', 'Feitian', 'ePass3003Auto'],
      ['1-2', 'Giesecke+Devrient', 'StarSign'],
      ['1-4', 'configured', 'other token'],
    ]);
    expect(found[0]?.serial).toBe('A1');
  });

  it('is empty without sysfs', () => {
    expect(listEkeyUsbDevices([], join(sysfs, 'none'))).toEqual([]);
  });
});
