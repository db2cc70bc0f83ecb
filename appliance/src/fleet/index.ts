/**
 * The fleet room: every replica of the DR VPC seen from the operator's host, through the bastion
 * (issue 13 section 2): version, configuration, role, gateway state, clock and alerts, and what
 * differs (`nqgw fleet status|check`, docs/ops.md "The fleet").
 */
export { FleetError } from './errors.js';
export { readInventory, type Replica } from './inventory.js';
export { configIdentity, type ConfigIdentity } from '../config/index.js';
export { checkSshOptions, sshConfigText, type SshOptions } from './ssh.js';
export {
  probeFleet,
  readAnswer,
  remoteCommand,
  type GatewayView,
  type ProbeOptions,
  type ReplicaReport,
} from './probe.js';
export { baselineFrom, findDifferences, type Baseline, type Finding } from './compare.js';
