import type { Measurement, SntpSample } from '../../../appliance/src/clock/index.js';

/** A sample as the SNTP client would return it, with the figures a test cares about. */
export function sample(offsetMs: number, errorBoundMs = 1, server = '10.0.0.1:123', delayMs = 2): SntpSample {
  return {
    server,
    address: server.split(':')[0] ?? server,
    offsetMs,
    delayMs,
    errorBoundMs,
    t1: 0,
    t2: 0,
    t3: 0,
    t4: 0,
    leap: 0,
    version: 4,
    stratum: 2,
    precision: -20,
    rootDelayMs: 0,
    rootDispersionMs: 0,
    refId: '192.0.2.1',
  };
}

/** A one-server measurement at the given offset, or a no-answer one for null. */
export function measurement(offsetMs: number | null, at = 0): Measurement {
  if (offsetMs === null) {
    return {
      at,
      offsetMs: null,
      errorBoundMs: null,
      delayMs: null,
      spreadMs: null,
      answered: 0,
      servers: [{ server: '10.0.0.1:123', ok: false, error: { code: 'CLOCK_TIMEOUT', message: 'timeout' } }],
    };
  }
  return {
    at,
    offsetMs,
    errorBoundMs: 1,
    delayMs: 2,
    spreadMs: 0,
    answered: 1,
    servers: [{ server: '10.0.0.1:123', ok: true, sample: sample(offsetMs) }],
  };
}
