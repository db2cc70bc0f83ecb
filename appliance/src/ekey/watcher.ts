import { EventEmitter } from 'node:events';
import { type Clock, systemClock } from '../shared/index.js';
import { EKEY_USB_VENDORS } from './usb.js';

/**
 * The USB attach/detach events as the `usb` package (v2+) emits them on its `usb` object; a test
 * double implements the same. Only a hint: the PKCS#11 slot is the truth.
 */
export interface UsbEventSource {
  on(event: 'attach' | 'detach', listener: (device: UsbEventDevice) => void): unknown;
  off(event: 'attach' | 'detach', listener: (device: UsbEventDevice) => void): unknown;
}

export interface UsbEventDevice {
  deviceDescriptor: { idVendor: number; idProduct: number };
}

export interface TokenWatcherOptions {
  /** Is the configured token in its slot now? (pkcs11js; throwing counts as absent.) */
  probe: () => boolean | Promise<boolean>;
  /** Slot polling period (default 2000 ms). */
  intervalMs?: number;
  usb?: UsbEventSource;
  /** Extra USB ids (`vvvv` or `vvvv:pppp`, hex) besides Feitian and Giesecke+Devrient. */
  usbIds?: readonly string[];
  /** Recommend the spare EKey after this many token failures (default 3) … */
  spareAfter?: number;
  /** … within this window (default 24 h). */
  failureWindowMs?: number;
  clock?: Clock;
}

/** Extra looks at the slot after an EKey's USB attach/detach. */
const USB_FOLLOW_UP_MS = [300, 1000];

export const SPARE_EKEY_ADVICE = 'Ekey多次出现故障, 短期内应换成备用Ekey';

/**
 * Watches the EKey: polls the slot, re-probes at once on a matching USB attach/detach, and emits
 * `removed` and `returned` on changes of presence (the gateway closes the link on `removed` and
 * reconnects on `returned`). Counts token failures (`recordFailure`) and emits `spare` with the
 * vendor's advice after repeated ones. `start()`/`stop()`; stop releases the timer and listeners.
 */
export class TokenWatcher extends EventEmitter {
  private timer: NodeJS.Timeout | null = null;
  private probing: Promise<void> | null = null;
  private again = false;
  private failureTimes: number[] = [];
  private readonly clock: Clock;
  /** null until the first probe. */
  present: boolean | null = null;

  private readonly followUps = new Set<NodeJS.Timeout>();

  /**
   * An EKey's USB event: look now, and again shortly after, because the token's slot can lag the
   * USB enumeration (the driver or pcscd opens the device first).
   */
  private readonly onUsb = (device: UsbEventDevice): void => {
    if (!this.isEkey(device) || !this.timer) return;
    this.checkAlone();
    for (const ms of USB_FOLLOW_UP_MS) {
      const t = setTimeout(() => {
        this.followUps.delete(t);
        this.checkAlone();
      }, ms);
      this.followUps.add(t);
    }
  };

  constructor(private readonly opts: TokenWatcherOptions) {
    super();
    this.clock = opts.clock ?? systemClock;
  }

  private isEkey(device: UsbEventDevice): boolean {
    const v = device.deviceDescriptor.idVendor.toString(16).padStart(4, '0');
    const p = device.deviceDescriptor.idProduct.toString(16).padStart(4, '0');
    return (
      v in EKEY_USB_VENDORS ||
      (this.opts.usbIds ?? []).some((id) => id.toLowerCase() === v || id.toLowerCase() === `${v}:${p}`)
    );
  }

  async start(): Promise<void> {
    if (this.timer) return;
    this.opts.usb?.on('attach', this.onUsb);
    this.opts.usb?.on('detach', this.onUsb);
    this.timer = setInterval(() => this.checkAlone(), this.opts.intervalMs ?? 2000);
    await this.check();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const t of this.followUps) clearTimeout(t);
    this.followUps.clear();
    this.opts.usb?.off('attach', this.onUsb);
    this.opts.usb?.off('detach', this.onUsb);
    await this.probing;
  }

  /** Probe now (one probe at a time; a request during a probe runs one more after it). */
  check(): Promise<void> {
    if (this.probing) {
      this.again = true;
      return this.probing;
    }
    this.probing = (async () => {
      do {
        this.again = false;
        let now: boolean;
        try {
          now = await this.opts.probe();
        } catch {
          now = false;
        }
        const before = this.present;
        this.present = now;
        if (before === true && !now) this.tell('removed');
        if (before === false && now) this.tell('returned');
      } while (this.again);
    })().finally(() => {
      this.probing = null;
    });
    return this.probing;
  }

  /**
   * check() from a timer or a USB callback, which nobody awaits. It does not reject (a throwing
   * probe counts as absent, listeners go through tell()); should that change, the failure is a
   * process warning like tell()'s, not an unhandled rejection that ends the gateway.
   */
  private checkAlone(): void {
    this.check().catch((err: unknown) =>
      process.emitWarning(`TokenWatcher probe failed: ${(err as Error).message}`),
    );
  }

  /**
   * Emit without letting a throwing listener turn into an unhandled rejection of a probe that
   * nobody awaits (timer and USB callbacks): that would end the gateway.
   */
  private tell(event: 'removed' | 'returned'): void {
    try {
      this.emit(event);
    } catch (err) {
      process.emitWarning(`TokenWatcher '${event}' listener failed: ${(err as Error).message}`);
    }
  }

  /** A token failure (device error, failed handshake on the token). Returns the count in the window. */
  recordFailure(): number {
    const now = this.clock.now();
    const windowMs = this.opts.failureWindowMs ?? 24 * 3600_000;
    this.failureTimes = [...this.failureTimes.filter((t) => now - t < windowMs), now];
    const n = this.failureTimes.length;
    if (n >= (this.opts.spareAfter ?? 3)) this.emit('spare', `${SPARE_EKEY_ADVICE} (${n} 次)`);
    return n;
  }

  failures(): number {
    const windowMs = this.opts.failureWindowMs ?? 24 * 3600_000;
    const now = this.clock.now();
    return this.failureTimes.filter((t) => now - t < windowMs).length;
  }
}
