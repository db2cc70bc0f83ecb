import type { Command } from 'commander';
import { AppError } from '../shared/index.js';
import { loadConfig } from '../config/index.js';
import { softCertificateRequest, softPkcs12 } from '../ekey/index.js';
import { EXIT } from './output.js';
import type { CliIo } from './calendar.js';

/**
 * `nqgw softkey csr|pkcs12`: the soft-encryption certificate material (a software key, its
 * request, the PKCS#12 for `[soft] pkcs12`). Kept apart from cli/softkey.ts (the ledger
 * commands) so each file stays readable; registered under the same `softkey` command.
 * Exit 0 written; 2 bad arguments, tw.ini, or a key/passphrase file readable by others;
 * 3 refused: an output exists (NQ131) or the certificate is not this station's (NQ101).
 * Keys and passphrases are never printed.
 */
const stdio: CliIo = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
};

function guarded(io: CliIo, fn: () => number): number {
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    io.err(`[${err.code}] ${err.message}`);
    if (err.hint) io.err(`  -> ${err.hint}`);
    return err.code === 'NQ131' || err.code === 'NQ101' ? EXIT.REFUSED : EXIT.BAD_INPUT;
  }
}

export interface SoftCsrCliOptions {
  config: string;
  keyOut: string;
  out: string;
  cn?: string;
}

export function runSoftCsr(opts: SoftCsrCliOptions, io: CliIo = stdio): number {
  return guarded(io, () => {
    const r = softCertificateRequest(loadConfig(opts.config), {
      keyOut: opts.keyOut,
      out: opts.out,
      ...(opts.cn !== undefined ? { cn: opts.cn } : {}),
    });
    io.out(`key written: ${r.keyOut} (RSA 2048, mode 0600)`);
    io.out(`certificate request written: ${r.out} (subject ${r.subject})`);
    io.out(
      'After the CA has issued the certificate: nqgw softkey pkcs12 --config F --key KEY --cert CERT --out FILE.p12 --passphrase-file FILE',
    );
    return EXIT.OK;
  });
}

export interface SoftPkcs12CliOptions {
  config: string;
  key: string;
  cert: string;
  ca?: string;
  out: string;
  passphraseFile: string;
}

export function runSoftPkcs12(opts: SoftPkcs12CliOptions, io: CliIo = stdio): number {
  return guarded(io, () => {
    const r = softPkcs12(loadConfig(opts.config), {
      key: opts.key,
      cert: opts.cert,
      out: opts.out,
      passphraseFile: opts.passphraseFile,
      ...(opts.ca !== undefined ? { ca: opts.ca } : {}),
    });
    const c = r.certificate;
    io.out(
      `PKCS#12 written: ${r.out} (mode 0600; certificate ${c.subject}, issuer ${c.issuer}, serial ${c.serial}, valid until ${c.notAfter.toISOString()}${r.chain > 0 ? `, ${r.chain} chain certificate(s)` : ''})`,
    );
    io.out('Use it with [soft] pkcs12 = FILE and pkcs12_passphrase_file = the passphrase file.');
    return EXIT.OK;
  });
}

/** Adds `csr` and `pkcs12` to the `softkey` command made in cli/softkey.ts. */
export function registerSoftkeyMaterialCommands(softkey: Command): void {
  softkey
    .command('csr')
    .description(
      'a new software RSA key (0600) and its certificate request, for the soft-encryption certificate',
    )
    .requiredOption('--config <file>', 'tw.ini')
    .requiredOption(
      '--key-out <file>',
      'the new private key (PEM, 0600); an existing file is not overwritten',
    )
    .requiredOption('--out <file>', 'the request (PEM); an existing file is not overwritten')
    .option('--cn <name>', 'subject CN (default: the station id)')
    .action((opts: SoftCsrCliOptions) => {
      process.exitCode = runSoftCsr(opts);
    });
  softkey
    .command('pkcs12')
    .description('the PKCS#12 for [soft] pkcs12, after checking the certificate (station, [tls] ca, key)')
    .requiredOption('--config <file>', 'tw.ini')
    .requiredOption('--key <file>', 'the private key (PEM, 0600)')
    .requiredOption('--cert <file>', 'the station certificate issued by the CA (PEM)')
    .option('--ca <file>', 'chain certificates to include (PEM)')
    .requiredOption('--out <file>', 'the PKCS#12 (0600); an existing file is not overwritten')
    .requiredOption('--passphrase-file <file>', 'the passphrase (0600), as for [soft] pkcs12_passphrase_file')
    .action((opts: SoftPkcs12CliOptions) => {
      process.exitCode = runSoftPkcs12(opts);
    });
}
