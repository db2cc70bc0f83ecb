import type { TwConfig } from '../config/index.js';
import {
  Pkcs11TlsCredentials,
  SoftTlsCredentials,
  ekeySettingsFromConfig,
  type EkeySettings,
  type Pkcs11Module,
} from '../ekey/index.js';
import { FileTlsCredentials, type TlsCredentials } from '../link/index.js';
import type { Clock } from '../shared/index.js';

/**
 * The station's TLS identity by `[tls] mode`: a PEM key file (the lab, and the fallback), the
 * EKey through PKCS#11 (the key never leaves the token), or the soft-encryption PKCS#12, which
 * checks the soft window and today's confirmation at every connect. `ekey` passes settings and a
 * module already made (the gateway shares one module between the credentials and its hot-plug
 * guard: two instances would re-initialize the library under each other).
 */
export function credentialsFor(
  config: TwConfig,
  clock: Clock,
  ekey?: { settings: EkeySettings; module: Pkcs11Module },
): TlsCredentials {
  switch (config.tls.mode) {
    case 'ekey':
      return new Pkcs11TlsCredentials(
        ekey?.settings ?? ekeySettingsFromConfig(config),
        config.tls.ca,
        config.station.id,
        clock,
        ekey?.module,
      );
    case 'soft':
      return new SoftTlsCredentials(config, clock);
    case 'file':
      return new FileTlsCredentials(config.tls.ca, config.tls.cert, config.tls.key);
  }
}
