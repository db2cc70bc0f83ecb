/**
 * The config room's door: tw.ini reading and checking, line-numbered problems, and the templates
 * for the cloud's addresses. Everyone else reads the typed TwConfig from here.
 */
export * from './types.js';
export { parseIni, type IniDocument, type IniEntry, type IniSection } from './ini.js';
export { decodeIniBytes, readIniFile, INI_ENCODING_CODES, type IniEncoding, type IniDecoded } from './ini.js';
export { loadConfig, parseConfigText } from './load.js';
export { checkSecretSources, NQGW_DROP_IN_DIR, type SecretSourceOptions } from './secret-sources.js';
export { isLoopbackHost, type ManagementTls } from './management-tls.js';
export { ConfigError, CONFIG_ERROR_CODE, formatConfigProblems, type ConfigProblem } from './errors.js';
export { STATION_ID_RE, TRADING_UNIT_RE, HHMM_RE, checkHostPort, isIPv4 } from './checks.js';
export {
  KNOWN_KEYS,
  EXTRA_SECTIONS,
  SERVER_KEY_RE,
  TLS_MODES,
  MAIN_STATION_SILENCE_LIMIT_MS,
} from './schema.js';
export {
  renderTemplate,
  listTemplates,
  templatesDir,
  TemplateError,
  TEMPLATE_ERROR_CODE,
  TEMPLATE_VALUES,
  type TemplateInfo,
} from './templates.js';
export { configIdentity, type ConfigIdentity } from './identity.js';
