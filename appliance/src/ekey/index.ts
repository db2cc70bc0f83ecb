/**
 * The ekey room's door: the station's TLS identity (EKey over PKCS#11, or the soft-encryption
 * certificate) and the soft-encryption ledger with its 10-trading-day rule.
 */
export {
  SoftEncryption,
  softModeAllowedToday,
  closeSoftWindowOnEkey,
  SOFT_IN_USE_MESSAGE,
  type SoftStatus,
  type SoftTodayResult,
} from './soft.js';
export { SoftLedger, type LedgerRecord, type LedgerRead } from './soft-ledger.js';
export {
  windowsOf,
  liveWindow,
  checkApply,
  checkSoftToday,
  windowDay,
  type SoftWindow,
  type WindowDay,
  type ApplyRequest,
} from './soft-rules.js';
export { softSettingsFromConfig, SOFT_MAX_TRADING_DAYS, type SoftSettings } from './soft-settings.js';
export {
  SoftRefusedError,
  SoftLedgerError,
  SoftUsageError,
  SOFT_REFUSAL,
  type SoftRefusal,
} from './soft-errors.js';
export { Pkcs11TlsCredentials, prepareEngine, ckrFromEngineError, mapEngineError } from './pkcs11-tls.js';
export {
  Pkcs11Module,
  describeKey,
  type TokenSelector,
  type TokenDescription,
  type TokenReading,
} from './token.js';
export {
  checkStationCertificate,
  parseCertificate,
  type StationCertificate,
  type CertificateExpectations,
} from './certcheck.js';
export {
  ekeySettingsFromConfig,
  applyModuleEnv,
  parseModuleEnv,
  DEFAULT_ENGINE_DIRS,
  type EkeySettings,
} from './ekey-settings.js';
export {
  CKR,
  ckrName,
  ckrHex,
  ckrOf,
  mapPkcs11Error,
  EkeyDeviceError,
  EkeyNotFoundError,
  EkeyPinError,
  EkeyCertificateError,
  EkeyConfigError,
} from './pkcs11-errors.js';
export { ekeyStatus, ekeyState, type EkeyStatus, type EkeyState } from './status.js';
export { listEkeyUsbDevices, EKEY_USB_VENDORS, type UsbDevice } from './usb.js';
export { SoftTlsCredentials } from './soft-tls.js';
export {
  TokenWatcher,
  SPARE_EKEY_ADVICE,
  type TokenWatcherOptions,
  type UsbEventSource,
  type UsbEventDevice,
} from './watcher.js';
export { openUsbEventSource, importUsbPackage, type UsbEventSourceResult } from './usb-events.js';
export { helperTlsConnector, helperScriptPath } from './tls-helper.js';
export {
  ekeyCertificateRequest,
  unsignedRequest,
  completeRequest,
  OutputExistsError,
  type EkeyCsrOptions,
  type EkeyCsrResult,
} from './csr.js';
export { readPinFile } from './pin.js';
export {
  softCertificateRequest,
  softPkcs12,
  type SoftCsrOptions,
  type SoftCsrResult,
  type SoftPkcs12Options,
  type SoftPkcs12Result,
} from './soft-material.js';
export { readPassphraseFile, readSecretFile } from './secret-file.js';
export {
  TokenAgent,
  AgentTlsCredentials,
  EkeyHungError,
  PROBE_TIMEOUT_MS,
  CREDENTIALS_TIMEOUT_MS,
  agentScriptPath,
} from './token-agent.js';
