/**
 * The main-station simulator: the reference peer of link/ (SPEC.md: the industry tests DR sites
 * with a simulator of the system). Speaks the modelled protocol over TLS and enforces the main
 * station's rules; see config.ts for sim.ini, admin.ts for the admin API, rules.ts for the rules.
 */
export { loadSimConfig, parseSimConfig, SimConfigError } from './config.js';
export type { FillRule, ListenAddress, SimConfig, StationConfig } from './config.js';
export { MainStationSimulator } from './simulator.js';
export type { SimulatorOptions } from './simulator.js';
export type { StationReport, FaultKind } from './admin.js';
export { SimSession } from './session.js';
export { CLIENT_QUIT_LOG, SOFT_REFUSED, isSilent, takeOrder, type Outgoing } from './exchange.js';
export type { LogonInfo, SessionHost } from './session.js';
export { tlsTransport, type Transport } from './transport.js';
export { SimStore, SimStateError, STATE_FILE } from './store.js';
export type { LogRecord, DayState } from './store.js';
export {
  checkOrder,
  judgeOrder,
  normalizeOrder,
  fillQuantities,
  fillNumber,
  isListed,
  REJECT_TEXT,
} from './rules.js';
export type { RejectCode, RuleContext, TakenOrder, OrderView, Verdict } from './rules.js';
export { runSimulator } from './main.js';
