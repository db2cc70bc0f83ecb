import type { UsbEventDevice, UsbEventSource } from './watcher.js';

type UsbEvent = 'attach' | 'detach';
type UsbListener = (device: UsbEventDevice) => void;

/** The part of the `usb` package's (v2) `usb` object that is used here. */
interface UsbModuleObject {
  on(event: UsbEvent, listener: UsbListener): unknown;
  off(event: UsbEvent, listener: UsbListener): unknown;
  /** Lets the process exit while attach/detach listeners are registered (native hotplug only). */
  unrefHotplugEvents?: () => void;
  /** Non-zero when libusb could not be initialized (the package still loads, but sees nothing). */
  INIT_ERROR?: number;
}

export type UsbEventSourceResult =
  { source: UsbEventSource; close(): void } | { source: null; reason: string };

/**
 * How the `usb` package is loaded. The specifier is held in a variable on purpose: `usb` is an
 * optional dependency (a native module with prebuilt binaries), so it may be absent (no prebuild
 * for the architecture and no compiler at install time) and the appliance must still type-check,
 * build and run without it. Tests inject a failing importer.
 */
const USB_PACKAGE = 'usb';
export const importUsbPackage = (): Promise<unknown> => import(USB_PACKAGE) as Promise<unknown>;

/**
 * USB attach/detach events for `TokenWatcher` from the `usb` package, or the reason there are
 * none. Never throws: the events are only a hint (the watcher polls the PKCS#11 slot anyway), so a
 * missing native module, a missing libudev or a libusb that cannot initialize (no /dev/bus/usb in
 * a container) only means the watcher falls back to polling.
 *
 * The `usb` object starts libusb's hotplug machinery when the first attach/detach listener is
 * added and stops it when the last one is removed; while it runs it keeps Node's event loop alive.
 * The returned source therefore remembers the listeners added through it, and `close()` removes
 * them, so a closed source never holds a process open. It also unreferences the hotplug handle as
 * soon as it exists, so a source left open does not keep a CLI command from exiting either.
 */
export async function openUsbEventSource(
  importer: () => Promise<unknown> = importUsbPackage,
): Promise<UsbEventSourceResult> {
  let mod: unknown;
  try {
    mod = await importer();
  } catch (err) {
    return {
      source: null,
      reason: `the usb package cannot be loaded (${(err as Error).message}); EKey presence is polled only`,
    };
  }
  const usb = usbObjectOf(mod);
  if (!usb) {
    return {
      source: null,
      reason: 'the usb package has no usb event emitter (not v2?); EKey presence is polled only',
    };
  }
  if (usb.INIT_ERROR) {
    return {
      source: null,
      reason: `libusb could not be initialized (error ${usb.INIT_ERROR}); EKey presence is polled only`,
    };
  }

  const added: { event: UsbEvent; listener: UsbListener }[] = [];
  let closed = false;
  const source: UsbEventSource = {
    on(event, listener) {
      // After close nothing is added: it would restart libusb's hotplug thread behind our back.
      if (closed) return source;
      usb.on(event, listener);
      added.push({ event, listener });
      // The hotplug handle exists only once a listener is there (and again after a restart).
      usb.unrefHotplugEvents?.();
      return source;
    },
    off(event, listener) {
      usb.off(event, listener);
      const i = added.findIndex((a) => a.event === event && a.listener === listener);
      if (i >= 0) added.splice(i, 1);
      return source;
    },
  };
  return {
    source,
    close() {
      closed = true;
      // Removing the last listener is what stops libusb's hotplug events (and the package's
      // polling fallback) and releases the event loop.
      for (const { event, listener } of added.splice(0)) usb.off(event, listener);
    },
  };
}

/** The `usb` emitter from the imported module: ESM named export, or CommonJS default export. */
function usbObjectOf(mod: unknown): UsbModuleObject | null {
  const candidates = [
    (mod as { usb?: unknown } | null)?.usb,
    (mod as { default?: { usb?: unknown } } | null)?.default?.usb,
  ];
  for (const c of candidates) {
    const o = c as Partial<UsbModuleObject> | null | undefined;
    if (o && typeof o.on === 'function' && typeof o.off === 'function') return o as UsbModuleObject;
  }
  return null;
}
