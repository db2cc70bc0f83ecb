import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** USB vendors of the EKeys the vendor ships: Feitian (ePass3003, ePass3000GM), Giesecke+Devrient (捷德220). */
export const EKEY_USB_VENDORS: Record<string, string> = { '096e': 'Feitian', '1059': 'Giesecke+Devrient' };

export interface UsbDevice {
  /** sysfs name, e.g. 1-1.2 (bus-port path). */
  port: string;
  vendorId: string;
  productId: string;
  vendor: string;
  manufacturer: string;
  product: string;
  serial: string;
}

const read = (dir: string, name: string): string => {
  try {
    return readFileSync(join(dir, name), 'utf8').trim();
  } catch {
    return '';
  }
};

/**
 * EKey-like USB devices seen by the kernel (through passthrough or a usbip attach alike), read
 * from sysfs, so no USB library is needed to list them. `extraIds` adds `vvvv` or `vvvv:pppp`
 * (hex) from tw.ini `[ekey] usb_ids`. A hint only: the PKCS#11 slot is the truth.
 */
export function listEkeyUsbDevices(
  extraIds: readonly string[] = [],
  sysfs = '/sys/bus/usb/devices',
): UsbDevice[] {
  if (!existsSync(sysfs)) return [];
  const wanted = (v: string, p: string): boolean =>
    v in EKEY_USB_VENDORS ||
    extraIds.some((id) => id.toLowerCase() === v || id.toLowerCase() === `${v}:${p}`);
  const out: UsbDevice[] = [];
  for (const name of readdirSync(sysfs).sort()) {
    const dir = join(sysfs, name);
    const vendorId = read(dir, 'idVendor').toLowerCase();
    const productId = read(dir, 'idProduct').toLowerCase();
    if (vendorId === '' || !wanted(vendorId, productId)) continue;
    out.push({
      port: name,
      vendorId,
      productId,
      vendor: EKEY_USB_VENDORS[vendorId] ?? 'configured',
      manufacturer: read(dir, 'manufacturer'),
      product: read(dir, 'product'),
      serial: read(dir, 'serial'),
    });
  }
  return out;
}
