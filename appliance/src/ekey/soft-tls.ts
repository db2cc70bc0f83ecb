import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import forge from 'node-forge';
import type { TwConfig } from '../config/index.js';
import type { TlsCredentials, TlsSecureOptions } from '../link/index.js';
import { type Clock, systemClock } from '../shared/index.js';
import { checkStationCertificate } from './certcheck.js';
import { EkeyCertificateError } from './pkcs11-errors.js';
import { softModeAllowedToday } from './soft.js';
import { SoftUsageError } from './soft-errors.js';
import { readPassphraseFile, readSecretFile } from './secret-file.js';

/**
 * The soft-encryption certificate and key (tw.ini `[tls] mode = soft`): a PKCS#12 file, mode
 * 0600, used only while the soft-encryption rules allow it today. Every connect asks
 * `softModeAllowedToday` first and throws its refusal (no window, not confirmed today, past the
 * 10th trading day …), so a gateway built with these credentials cannot log on in soft mode
 * outside the rules. The certificate inside is checked like the EKey's (station, CA, validity).
 *
 *   [soft]
 *   pkcs12 = soft.p12                  ; 0600
 *   pkcs12_passphrase_file = soft.pass ; 0600, optional (empty passphrase without it)
 */
export class SoftTlsCredentials implements TlsCredentials {
  readonly pkcs12: string;
  readonly passphraseFile: string | null;

  constructor(
    readonly config: TwConfig,
    private readonly clock: Clock = systemClock,
  ) {
    const raw = config.extra['soft'] ?? {};
    const base = dirname(config.source);
    const path = (v: string): string => (isAbsolute(v) ? v : resolve(base, v));
    const p12 = raw['pkcs12']?.trim();
    if (!p12)
      throw new SoftUsageError(
        '[soft] pkcs12 is not set',
        `Give the soft-encryption PKCS#12 file in ${config.source}.`,
      );
    this.pkcs12 = path(p12);
    const pass = raw['pkcs12_passphrase_file']?.trim();
    this.passphraseFile = pass ? path(pass) : null;
  }

  describe(): string {
    return `soft pkcs12=${this.pkcs12} ca=${this.config.tls.ca}`;
  }

  async secureContextOptions(): Promise<TlsSecureOptions> {
    const allowed = softModeAllowedToday(this.config, this.clock);
    if (!allowed.ok) throw allowed.error;
    const pfx = readSecretFile(this.pkcs12, 'soft-encryption PKCS#12');
    const passphrase = this.passphraseFile ? readPassphraseFile(this.passphraseFile) : '';
    const ca = readFileSync(this.config.tls.ca, 'utf8');
    checkStationCertificate(certificateOf(pfx, passphrase), {
      stationId: this.config.station.id,
      caPem: ca,
      now: new Date(this.clock.now()),
    });
    return { ca, pfx, passphrase };
  }
}

/** The station certificate (DER) inside a PKCS#12: the one whose bag has a key beside it, else the first. */
function certificateOf(pfx: Buffer, passphrase: string): Buffer {
  let p12: forge.pkcs12.Pkcs12Pfx;
  try {
    p12 = forge.pkcs12.pkcs12FromAsn1(
      forge.asn1.fromDer(forge.util.createBuffer(pfx.toString('binary'))),
      passphrase,
    );
  } catch (err) {
    throw new EkeyCertificateError(
      `the soft-encryption PKCS#12 cannot be opened (${(err as Error).message})`,
    );
  }
  const bags =
    p12.getBags({ bagType: forge.pki.oids['certBag'] as string })[forge.pki.oids['certBag'] as string] ?? [];
  const keyBags = [
    ...(p12.getBags({ bagType: forge.pki.oids['pkcs8ShroudedKeyBag'] as string })[
      forge.pki.oids['pkcs8ShroudedKeyBag'] as string
    ] ?? []),
    ...(p12.getBags({ bagType: forge.pki.oids['keyBag'] as string })[forge.pki.oids['keyBag'] as string] ??
      []),
  ];
  const keyIds = new Set(keyBags.map((b) => JSON.stringify(b.attributes['localKeyId'] ?? null)));
  const withKey = bags.find((b) => keyIds.has(JSON.stringify(b.attributes['localKeyId'] ?? null)));
  const bag = withKey ?? bags[0];
  if (!bag?.cert) throw new EkeyCertificateError('the soft-encryption PKCS#12 holds no certificate');
  return Buffer.from(forge.asn1.toDer(forge.pki.certificateToAsn1(bag.cert)).getBytes(), 'binary');
}
