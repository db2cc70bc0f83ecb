import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { EkeyDeviceError, type UsbEventDevice } from '../../../appliance/src/ekey/index.js';
import { EkeyGuard, EKEY_HOLD } from '../../../appliance/src/gateway/ekeyguard.js';
import { OperatorLog } from '../../../appliance/src/gateway/oplog.js';
import type { ServerAddress } from '../../../appliance/src/config/index.js';

const SERVER: ServerAddress = { name: 'server1', host: '127.0.0.1', port: 1 };
const SETTINGS = {
  module: '/nowhere/libtoken.so',
  tokenLabel: 'station',
  pinFile: '/nowhere/pin',
  engineDir: '/nowhere',
};

/** A token slot the test plugs and pulls, seen through the guard's probe. */
class Slot {
  inserted = true;
  probes = 0;
  present(): boolean {
    this.probes++;
    return this.inserted;
  }
}

function setup(inserted = true): {
  slot: Slot;
  guard: EkeyGuard;
  calls: string[];
  log: OperatorLog;
  usb: EventEmitter;
} {
  const slot = new Slot();
  slot.inserted = inserted;
  const calls: string[] = [];
  const log = new OperatorLog({ clock: { now: () => Date.now() }, stdout: false });
  // Polling far apart: only USB events and explicit checks make the guard look.
  const guard = new EkeyGuard(
    SETTINGS,
    log,
    { hold: (r) => calls.push(`hold ${r}`), release: (r) => calls.push(`release ${r}`) },
    { now: () => Date.now() },
    { probe: () => slot.present(), intervalMs: 3_600_000 },
  );
  return { slot, guard, calls, log, usb: new EventEmitter() };
}

const feitian: UsbEventDevice = { deviceDescriptor: { idVendor: 0x096e, idProduct: 0x0703 } };
const mouse: UsbEventDevice = { deviceDescriptor: { idVendor: 0x046d, idProduct: 0xc077 } };
const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 10));

describe('EkeyGuard: the EKey hot-plug guard of the gateway', () => {
  let stop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await stop?.();
  });

  it('holds the link when the token is absent at start (NQ124), releases when it arrives', async () => {
    const t = setup(false);
    stop = () => t.guard.stop();
    await t.guard.start(t.usb);
    expect(t.calls).toEqual([`hold ${EKEY_HOLD}`]);
    expect(t.log.recent().map((l) => l.code)).toContain('NQ124');
    expect(t.guard.view()).toEqual({ present: false, failures: 0 });
    t.slot.inserted = true;
    t.usb.emit('attach', feitian);
    await settle();
    expect(t.calls).toEqual([`hold ${EKEY_HOLD}`, 'release Ekey已插回']);
    expect(t.log.recent().at(-1)?.code).toBe('NQ125');
  });

  it('a pull seen on an EKey detach holds the link and counts a failure; the return releases it', async () => {
    const t = setup();
    stop = () => t.guard.stop();
    await t.guard.start(t.usb);
    expect(t.calls).toEqual([]);
    t.slot.inserted = false;
    const before = t.slot.probes;
    t.usb.emit('detach', mouse); // not an EKey: no look
    await settle();
    expect(t.slot.probes).toBe(before);
    t.usb.emit('detach', feitian);
    await settle();
    expect(t.calls).toEqual([`hold ${EKEY_HOLD}`]);
    expect(t.guard.view()).toEqual({ present: false, failures: 1 });
    t.slot.inserted = true;
    t.usb.emit('attach', feitian);
    await settle();
    expect(t.calls).toEqual([`hold ${EKEY_HOLD}`, 'release Ekey已插回']);
    expect(t.log.recent().find((l) => l.code === 'NQ125')?.text).toMatch(/^Ekey已插回 \(离开 [\d.]+ 秒\)/);
  });

  it('device errors on connect count toward the spare-EKey advice (NQ126 at the third failure)', async () => {
    const t = setup();
    stop = () => t.guard.stop();
    await t.guard.start();
    const failing = t.guard.wrap(() => Promise.reject(new EkeyDeviceError(0x30, 'C_Sign')));
    for (let i = 0; i < 2; i++) await expect(failing(SERVER, new AbortController().signal)).rejects.toThrow();
    expect(t.log.recent().some((l) => l.code === 'NQ126')).toBe(false);
    await expect(failing(SERVER, new AbortController().signal)).rejects.toBeInstanceOf(EkeyDeviceError);
    const advice = t.log.recent().find((l) => l.code === 'NQ126');
    expect(advice?.text).toBe('Ekey多次出现故障, 短期内应换成备用Ekey (3 次)');
    expect(t.guard.view().failures).toBe(3);
    // Other errors (the network) are not the token's failures.
    const network = t.guard.wrap(() =>
      Promise.reject(Object.assign(new Error('refused'), { code: 'NQ391' })),
    );
    await expect(network(SERVER, new AbortController().signal)).rejects.toThrow('refused');
    expect(t.guard.view().failures).toBe(3);
  });

  it('a token pulled during a connect counts once (the removal), and holds the link', async () => {
    const t = setup();
    stop = () => t.guard.stop();
    await t.guard.start();
    const pulledMidConnect = t.guard.wrap(() => {
      t.slot.inserted = false;
      return Promise.reject(new EkeyDeviceError(0x32, 'C_Sign'));
    });
    await expect(pulledMidConnect(SERVER, new AbortController().signal)).rejects.toBeInstanceOf(
      EkeyDeviceError,
    );
    expect(t.guard.view()).toEqual({ present: false, failures: 1 });
    expect(t.calls).toEqual([`hold ${EKEY_HOLD}`]);
  });
});
