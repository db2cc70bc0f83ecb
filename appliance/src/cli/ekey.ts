import type { Command } from 'commander';
import { AppError } from '../shared/index.js';
import { loadConfig } from '../config/index.js';
import {
  ekeyCertificateRequest,
  ekeyState,
  ekeyStatus,
  type EkeyCsrResult,
  type EkeyStatus,
  type Pkcs11Module,
} from '../ekey/index.js';
import { EXIT } from './output.js';
import type { CliIo } from './calendar.js';

/**
 * `nqgw ekey status --config F [--json]`: the EKey USB devices and PKCS#11 tokens the appliance
 * sees, and the configured token's certificate. No PIN is tried. Exit 0 token present and its
 * certificate right; 1 present but the certificate is wrong, or a device error; 2 bad
 * configuration; 3 the configured token is absent.
 */
const stdio: CliIo = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
};

export function registerEkeyCommands(program: Command): void {
  const ekey = program.command('ekey').description('the station\u2019s EKey (PKCS#11 token)');
  ekey
    .command('status')
    .description('EKey USB devices, PKCS#11 tokens and the configured certificate (no PIN tried)')
    .requiredOption('--config <file>', 'tw.ini')
    .option('--json', 'print as JSON')
    .action((opts: { config: string; json?: boolean }) => {
      process.exitCode = runEkeyStatus(opts);
    });
  ekey
    .command('csr')
    .description('a PKCS#10 certificate request for the key on the EKey, signed on the token (one PIN try)')
    .requiredOption('--config <file>', 'tw.ini')
    .requiredOption('--out <file>', 'the request (PEM); an existing file is not overwritten')
    .option('--cn <name>', 'subject CN (default: the station id)')
    .action((opts: EkeyCsrCliOptions) => {
      process.exitCode = runEkeyCsr(opts);
    });
}

export interface EkeyCsrCliOptions {
  config: string;
  out: string;
  cn?: string;
}

/**
 * `nqgw ekey csr`: exit 0 written; 3 refused (the output exists, wrong PIN 用户名或密码错误, the
 * token absent, its key pair inconsistent); 1 device error (CK_RV); 2 bad arguments or tw.ini.
 * The PIN is never printed.
 */
export function runEkeyCsr(opts: EkeyCsrCliOptions, io: CliIo = stdio, module?: Pkcs11Module): number {
  let r: EkeyCsrResult;
  try {
    r = ekeyCertificateRequest(loadConfig(opts.config), {
      out: opts.out,
      ...(opts.cn !== undefined ? { cn: opts.cn } : {}),
      ...(module ? { module } : {}),
    });
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    io.err(`[${err.code}] ${err.message}`);
    if (err.hint) io.err(`  -> ${err.hint}`);
    // NQ131 output exists, NQ102 wrong PIN, NQ122 token absent, NQ101 key pair does not match.
    if (['NQ131', 'NQ102', 'NQ122', 'NQ101'].includes(err.code)) return EXIT.REFUSED;
    return err.code === 'NQ121' ? EXIT.DEGRADED : EXIT.BAD_INPUT;
  }
  io.out(
    `certificate request written: ${r.out} (subject ${r.subject}, RSA ${r.modulusBits}, signed on the EKey)`,
  );
  io.out(
    'Send it to the main station\u2019s CA; load the issued certificate onto the EKey with the vendor\u2019s tool.',
  );
  return EXIT.OK;
}

export function runEkeyStatus(
  opts: { config: string; json?: boolean },
  io: CliIo = stdio,
  status: (config: ReturnType<typeof loadConfig>) => EkeyStatus = (c) => ekeyStatus(c),
): number {
  let s: EkeyStatus;
  try {
    s = status(loadConfig(opts.config));
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    io.err(`[${err.code}] ${err.message}`);
    if (err.hint) io.err(`  -> ${err.hint}`);
    return EXIT.BAD_INPUT;
  }
  const state = ekeyState(s);
  if (opts.json) io.out(JSON.stringify({ state, ...s }, null, 2));
  else for (const line of formatEkeyStatus(s, state)) io.out(line);
  if (s.error?.code === 'NQ123') return EXIT.BAD_INPUT;
  return state === 'ok' ? EXIT.OK : state === 'absent' ? EXIT.REFUSED : EXIT.DEGRADED;
}

export function formatEkeyStatus(s: EkeyStatus, state: string): string[] {
  const lines = [`tls mode: ${s.mode}; PKCS#11 module: ${s.module ?? '-'}`];
  lines.push(`USB EKey devices: ${s.usb.length === 0 ? 'none seen' : ''}`);
  for (const d of s.usb) {
    lines.push(
      `  ${d.port}  ${d.vendorId}:${d.productId}  ${d.vendor} ${d.product} ${d.serial ? `serial ${d.serial}` : ''}`.trimEnd(),
    );
  }
  lines.push(`tokens: ${s.tokens.length === 0 ? 'none' : ''}`);
  for (const t of s.tokens)
    lines.push(`  slot ${t.slot}  '${t.label}'  serial ${t.serial}  ${t.manufacturer} ${t.model}`);
  if (s.certificate) {
    lines.push(
      s.certificate.ok
        ? `certificate: ${s.certificate.subject} (issuer ${s.certificate.issuer}, valid until ${s.certificate.notAfter})`
        : `certificate: wrong - ${s.certificate.problem ?? ''}`,
    );
  }
  if (s.error) {
    lines.push(`[${s.error.code}] ${s.error.message}`);
    if (s.error.hint) lines.push(`  -> ${s.error.hint}`);
  }
  lines.push(`state: ${state}`);
  return lines;
}
