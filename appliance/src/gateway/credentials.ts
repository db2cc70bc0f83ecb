import type { TwConfig } from '../config/index.js';
import { Pkcs11TlsCredentials, SoftTlsCredentials, ekeySettingsFromConfig } from '../ekey/index.js';
import { FileTlsCredentials, type TlsCredentials } from '../link/index.js';
import type { Clock } from '../shared/index.js';

/**
 * The station's TLS identity by `[tls] mode`: a PEM key file (the lab, and the fallback), the
 * EKey through PKCS#11 (the key never leaves the token), or the soft-encryption PKCS#12, which
 * checks the soft window and today's confirmation at every connect. (The running gateway asks a
 * token agent process for the EKey's checks instead: gateway/identity.ts.)
 */
export function credentialsFor(config: TwConfig, clock: Clock): TlsCredentials {
  switch (config.tls.mode) {
    case 'ekey':
      return new Pkcs11TlsCredentials(
        ekeySettingsFromConfig(config),
        config.tls.ca,
        config.station.id,
        clock,
      );
    case 'soft':
      return new SoftTlsCredentials(config, clock);
    case 'file':
      return new FileTlsCredentials(config.tls.ca, config.tls.cert, config.tls.key);
  }
}
