import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  checkSecretSources,
  ConfigError,
  formatConfigProblems,
  INI_ENCODING_CODES,
  listTemplates,
  readIniFile,
  loadConfig,
  renderTemplate,
  TemplateError,
  type TwConfig,
} from '../config/index.js';
import { resolveConfigPath } from './usage.js';

/**
 * `nqgw config check FILE`, `nqgw config render --template NAME --values FILE.json [--out FILE]`
 * and `nqgw config templates`.
 *
 * Exit codes (set on process.exitCode, never process.exit, so tests and callers keep control):
 * 0 fine, 2 the file or the values are wrong (the reasons are printed).
 */

/** Where the commands write. Defaults to stdout/stderr; tests pass their own. */
export interface CliOutput {
  out(line: string): void;
  err(line: string): void;
}

export const EXIT_OK = 0;
export const EXIT_BAD_INPUT = 2;

const stdio: CliOutput = {
  out: (line) => process.stdout.write(line + '\n'),
  err: (line) => process.stderr.write(line + '\n'),
};

/** One line saying what the file configures. */
export function summarizeConfig(cfg: TwConfig): string {
  const servers = cfg.servers.map((s) => `${s.name} ${s.host}:${s.port}`).join(', ');
  return (
    `station ${cfg.station.id}, units ${cfg.station.units.join(',')}; ` +
    `${cfg.servers.length} server${cfg.servers.length === 1 ? '' : 's'}: ${servers}; ` +
    `tls ${cfg.tls.mode}; management ${cfg.management.host}:${cfg.management.port}`
  );
}

/** Which encoding tw.ini was read in: GBK (a Windows-edited file) is said so, with its code. */
export function encodingLine(file: string): string {
  const d = readIniFile(file);
  if ('problem' in d) return `encoding: unreadable (${d.problem.code})`;
  return d.encoding === 'GBK'
    ? `encoding: GBK [${INI_ENCODING_CODES.GBK_READ}] (saved on Windows as ANSI/GBK; read as GBK, the file is left as it is)`
    : `encoding: ${d.encoding}`;
}

/** `config check FILE`: the exit code. */
export function runConfigCheck(file: string, io: CliOutput = stdio): number {
  try {
    const cfg = loadConfig(file);
    // The secrets tw.ini names (EKey PIN, object-storage keys): present and readable by the gateway.
    const secrets = checkSecretSources(cfg);
    if (secrets.length > 0) throw new ConfigError(secrets);
    io.out(`OK: ${file}`);
    io.out(summarizeConfig(cfg));
    io.out(encodingLine(file));
    return EXIT_OK;
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const n = err.problems.length;
    io.err(`NOT OK: ${file} (${n} problem${n === 1 ? '' : 's'})`);
    io.err(formatConfigProblems(err));
    return EXIT_BAD_INPUT;
  }
}

export interface RenderOptions {
  template: string;
  values: string;
  out?: string;
  check?: boolean;
}

/** `config render`: the exit code. Writes --out through a temporary file, so it is never half written. */
export function runConfigRender(opts: RenderOptions, io: CliOutput = stdio): number {
  if (opts.check && opts.out === undefined) {
    io.err('--check needs --out (the file to check)');
    return EXIT_BAD_INPUT;
  }
  let values: unknown;
  try {
    values = JSON.parse(readFileSync(opts.values, 'utf8'));
  } catch (err) {
    io.err(`cannot read the values document ${opts.values}: ${(err as Error).message}`);
    return EXIT_BAD_INPUT;
  }
  if (values === null || typeof values !== 'object' || Array.isArray(values)) {
    io.err(`${opts.values}: the values document must be a JSON object`);
    return EXIT_BAD_INPUT;
  }
  let text: string;
  try {
    text = renderTemplate(opts.template, values as Record<string, unknown>);
  } catch (err) {
    if (!(err instanceof TemplateError)) throw err;
    io.err(`cannot render template ${opts.template}:`);
    for (const p of err.problems) io.err(`  ${p}`);
    if (err.hint) io.err(err.hint);
    return EXIT_BAD_INPUT;
  }
  if (opts.out === undefined) {
    io.out(text.replace(/\n$/, ''));
    return EXIT_OK;
  }
  try {
    const tmp = `${opts.out}.tmp-${process.pid}`;
    writeFileSync(tmp, text, { mode: 0o644 });
    renameSync(tmp, opts.out);
  } catch (err) {
    io.err(`cannot write ${opts.out}: ${(err as Error).message}`);
    return EXIT_BAD_INPUT;
  }
  io.out(`wrote ${opts.out} from template ${opts.template}`);
  return opts.check ? runConfigCheck(opts.out, io) : EXIT_OK;
}

/** `config templates`: the exit code. */
export function runConfigTemplates(io: CliOutput = stdio): number {
  for (const t of listTemplates()) {
    io.out(`${t.name}: ${t.description}`);
    io.out(`  required: ${t.required.length > 0 ? t.required.join(', ') : '(none)'}`);
    const optional = Object.entries(t.optional).map(([k, v]) => (v === '' ? k : `${k} (${v})`));
    io.out(`  optional: ${optional.join(', ')}`);
  }
  return EXIT_OK;
}

/** Add `config check`, `config render` and `config templates` to the nqgw program. */
export function registerConfigCommands(program: Command, io: CliOutput = stdio): void {
  const config = program.command('config').description('check tw.ini, or render it from a template');

  config
    .command('check')
    .description('check a tw.ini: every problem with its line and what to do (exit 2 if any)')
    .argument('[file]', `path of tw.ini (default: $NQGW_CONFIG, else /etc/nqgw/tw.ini)`)
    .action((file: string | undefined) => {
      process.exitCode = runConfigCheck(file ?? resolveConfigPath(undefined).path, io);
    });

  config
    .command('render')
    .description('render tw.ini from a template and a JSON values document (from Terraform/cloud-init)')
    .requiredOption('--template <name>', 'cloud-production, cloud-test or lab (see: nqgw config templates)')
    .requiredOption('--values <file>', 'JSON values document')
    .option('--out <file>', 'write tw.ini here instead of to stdout')
    .option('--check', 'after writing, check the result as `config check` does')
    .action((opts: { template: string; values: string; out?: string; check?: boolean }) => {
      process.exitCode = runConfigRender(opts, io);
    });

  config
    .command('templates')
    .description('list the templates and the values each needs')
    .action(() => {
      process.exitCode = runConfigTemplates(io);
    });
}
