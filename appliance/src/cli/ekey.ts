import type { Command } from 'commander';
import { AppError } from '../shared/index.js';
import { loadConfig } from '../config/index.js';
import { ekeyState, ekeyStatus, type EkeyStatus } from '../ekey/index.js';
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
