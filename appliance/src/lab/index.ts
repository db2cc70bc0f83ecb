export {
  initLab,
  LabExistsError,
  renderLabTwIni,
  renderLabSimIni,
  type LabDescription,
  type LabOptions,
} from './init.js';
export { makeLabPki, issueCertificate, LAB_SERVER_NAME, type LabPki, type LabKeyType } from './certs.js';
export {
  findSofthsmParts,
  setupSofthsmToken,
  LAB_EKEY_KINDS,
  type LabEkey,
  type LabEkeyKind,
  type SofthsmParts,
} from './softhsm.js';
export { makeOrder } from './orders.js';
