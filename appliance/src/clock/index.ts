/**
 * clock/: the NTP drift watchdog (docs/clock.md). Measures this host's offset against the
 * configured time servers with a small SNTP client of our own (RFC 5905 computation and reply
 * checks), reads chrony's view as a second opinion, and tells the gateway when to hold orders.
 */
export {
  ClockWatchdog,
  describeChange,
  formatMs,
  holdFor,
  type ChronyDisagreement,
  type ClockChange,
  type ClockRound,
  type ClockWatchdogEvents,
  type ClockWatchdogOptions,
  type Timers,
} from './watchdog.js';
export {
  classifyOffset,
  combineSamples,
  measureServers,
  type ClockState,
  type MeasureOptions,
  type Measurement,
  type ServerFailure,
  type ServerResult,
} from './measure.js';
export { sntpQuery, DEFAULT_TIMEOUT_MS, type SntpQueryOptions, type SntpSample } from './sntp.js';
export {
  compareWithChrony,
  parseChronyTracking,
  readChronyTracking,
  type ChronyComparison,
  type ChronyReaderOptions,
  type ChronyReading,
  type ChronyTracking,
} from './chrony.js';
export {
  CLOCK_DEFAULTS,
  clockSettingsFromConfig,
  parseClockSettings,
  parseServerList,
  type ClockPolicy,
  type ClockSettings,
  type ParseClockOptions,
} from './settings.js';
export { formatServer, parseServer, NTP_PORT, type TimeServer } from './server.js';
export { createPreciseWallClock, preciseWallClock } from './wallclock.js';
export { ntpToUnixMs, unixMsToNtp, NTP_PACKET_SIZE, type NtpTimestamp } from './packet.js';
export {
  ChronyParseError,
  ClockSettingsError,
  SntpAbortedError,
  SntpBadModeError,
  SntpBadStratumError,
  SntpError,
  SntpKissOfDeathError,
  SntpMalformedError,
  SntpNetworkError,
  SntpOriginateMismatchError,
  SntpTimeoutError,
  SntpUnsynchronisedError,
} from './errors.js';
