import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SPARE_EKEY_ADVICE, TokenWatcher, type UsbEventDevice } from '../../../appliance/src/ekey/index.js';

/** The test double behind the same interface as the `usb` package's attach/detach events. */
class FakeUsb extends EventEmitter {
  plug(event: 'attach' | 'detach', idVendor: number, idProduct = 1): void {
    const d: UsbEventDevice = { deviceDescriptor: { idVendor, idProduct } };
    this.emit(event, d);
  }
}

afterEach(() => {
  vi.useRealTimers();
});

describe('TokenWatcher', () => {
  it('emits removed and returned from slot polling', async () => {
    vi.useFakeTimers();
    let present = true;
    const w = new TokenWatcher({ probe: () => present, intervalMs: 1000 });
    const events: string[] = [];
    w.on('removed', () => events.push('removed'));
    w.on('returned', () => events.push('returned'));
    await w.start();
    expect(w.present).toBe(true);
    present = false;
    await vi.advanceTimersByTimeAsync(1000);
    present = true;
    await vi.advanceTimersByTimeAsync(1000);
    await w.stop();
    expect(events).toEqual(['removed', 'returned']);
  });

  it('re-probes at once on an EKey USB event, ignores other devices, and a throwing probe means absent', async () => {
    const usb = new FakeUsb();
    let present: boolean | 'throw' = true;
    let probes = 0;
    const w = new TokenWatcher({
      probe: () => {
        probes++;
        if (present === 'throw') throw new Error('CKR_GENERAL_ERROR');
        return present;
      },
      intervalMs: 3_600_000,
      usb,
      usbIds: ['abcd'],
    });
    const events: string[] = [];
    w.on('removed', () => events.push('removed'));
    w.on('returned', () => events.push('returned'));
    await w.start();
    expect(probes).toBe(1);
    present = 'throw';
    usb.plug('detach', 0x046d); // a mouse: no probe
    expect(probes).toBe(1);
    usb.plug('detach', 0x096e); // Feitian
    await w.check();
    expect(events).toEqual(['removed']);
    present = true;
    usb.plug('attach', 0xabcd); // configured id
    await w.check();
    expect(events).toEqual(['removed', 'returned']);
    await w.stop();
    expect(usb.listenerCount('attach')).toBe(0);
  });

  it('looks again after an attach when the slot lags the USB enumeration (no wait for the poll)', async () => {
    vi.useFakeTimers();
    const usb = new FakeUsb();
    let present = false;
    const w = new TokenWatcher({ probe: () => present, intervalMs: 3_600_000, usb });
    const events: string[] = [];
    w.on('returned', () => events.push('returned'));
    await w.start();
    usb.plug('attach', 0x1059); // Giesecke+Devrient; the driver opens the token 500 ms later
    await vi.advanceTimersByTimeAsync(500); // looked at 0 and 300 ms: not there yet
    expect(events).toEqual([]);
    present = true;
    await vi.advanceTimersByTimeAsync(499);
    expect(events).toEqual([]);
    await vi.advanceTimersByTimeAsync(1); // the 1000 ms look finds it
    expect(events).toEqual(['returned']);
    await w.stop();
  });

  it('recommends the spare EKey after repeated failures within the window', () => {
    let now = 0;
    const w = new TokenWatcher({
      probe: () => true,
      spareAfter: 3,
      failureWindowMs: 1000,
      clock: { now: () => now },
    });
    const advice: string[] = [];
    w.on('spare', (m: string) => advice.push(m));
    w.recordFailure();
    now = 500;
    w.recordFailure();
    now = 1200; // the first one has left the window
    expect(w.recordFailure()).toBe(2);
    expect(advice).toEqual([]);
    now = 1300;
    expect(w.recordFailure()).toBe(3);
    expect(advice).toEqual([`${SPARE_EKEY_ADVICE} (3 次)`]);
  });
});
