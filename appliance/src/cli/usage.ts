import { existsSync, statSync } from 'node:fs';
import { InvalidArgumentError, type Command, type Option } from 'commander';
import { loadConfig, type TwConfig } from '../config/index.js';
import { AppError } from '../shared/index.js';

/**
 * How every nqgw command finds tw.ini and says that it was called wrongly. An operator at a
 * bastion prompt types these commands many times a day: the path of tw.ini is optional
 * (`--config`, else $NQGW_CONFIG, else /etc/nqgw/tw.ini, where the image puts it), and a wrong
 * call is one line that says what to type instead, exit 2, never a stack trace.
 */

/** Where the image puts tw.ini (image/, nqgw.service): the path used when nothing else is given. */
export const DEFAULT_CONFIG = '/etc/nqgw/tw.ini';
/** The environment variable that names tw.ini when `--config` is not given. */
export const CONFIG_ENV = 'NQGW_CONFIG';

/** The codes of usage errors (NQ910-NQ919), so scripts can tell which mistake it was. */
export const USAGE_CODES = {
  /** A bad argument or option value (`--count abc`, `--date 2026-1-1`). */
  BAD_ARGUMENT: 'NQ910',
  /** `--config FILE` names a file that does not exist (or is not a file). */
  CONFIG_GIVEN_MISSING: 'NQ911',
  /** $NQGW_CONFIG names a file that does not exist. */
  CONFIG_ENV_MISSING: 'NQ912',
  /** No --config, no $NQGW_CONFIG, and no /etc/nqgw/tw.ini. */
  CONFIG_DEFAULT_MISSING: 'NQ913',
  /** The command needs a part tw.ini does not configure (`archive` without object storage). */
  NOT_CONFIGURED: 'NQ914',
  /** The command would overwrite something (`lab init` over a lab) without --force. */
  WOULD_OVERWRITE: 'NQ915',
} as const;

/** The command was called wrongly: exit 2, one line and at most one hint line, no stack trace. */
export class UsageError extends AppError {
  constructor(code: string, message: string, hint?: string) {
    super(code, message, hint);
  }
}

/** The `--config` options that name tw.ini (and so take the default). */
const TW_INI_OPTIONS = new WeakSet<Option>();
/** Commands whose `--config` is not tw.ini (`nqgw sim --config sim.ini`): no default. */
const NOT_TW_INI = new Set(['sim']);
const DEFAULT_WORDS = `default: $${CONFIG_ENV}, else ${DEFAULT_CONFIG}`;

/** Add the optional `--config <file>` every command that reads tw.ini takes. */
export function configOption(cmd: Command): Command {
  cmd.option('--config <file>', `tw.ini (${DEFAULT_WORDS})`);
  TW_INI_OPTIONS.add(cmd.options.at(-1)!);
  return cmd;
}

/** A command's mandatory `--config` (tw.ini) becomes optional, with the default said in its help. */
function relaxConfig(cmd: Command): void {
  if (!NOT_TW_INI.has(cmd.name())) {
    for (const o of cmd.options) {
      if (o.long !== '--config' || !(o.mandatory || TW_INI_OPTIONS.has(o))) continue;
      o.mandatory = false;
      if (!o.description.includes(DEFAULT_WORDS)) o.description = `${o.description} (${DEFAULT_WORDS})`;
      TW_INI_OPTIONS.add(o);
    }
  }
  for (const sub of cmd.commands) relaxConfig(sub);
}

/**
 * The default tw.ini for every command, in one place: each command's `--config` that names tw.ini
 * (a `requiredOption` in its own file, or configOption) becomes optional, and before the action
 * runs it is resolved (--config, $NQGW_CONFIG, /etc/nqgw/tw.ini) or the call is refused with a
 * UsageError naming what was tried. Done in hooks, so commands registered later (in any order in
 * main.ts) are covered without edits in their files.
 */
export function defaultConfigEverywhere(program: Command): void {
  relaxConfig(program); // now, for `nqgw help CMD`
  // And again before the sub-command parses (and checks mandatory options, and prints its --help),
  // for any command added after this call.
  program.hook('preSubcommand', (_program, sub) => relaxConfig(sub));
  program.hook('preAction', (_program, action) => {
    if (!action.options.some((o) => TW_INI_OPTIONS.has(o))) return;
    const given = action.getOptionValue('config') as string | undefined;
    const { path } = resolveConfigPath(given);
    action.setOptionValueWithSource('config', path, given === undefined ? 'default' : 'cli');
  });
}

/** Where tw.ini is, and what named it (for the messages). */
export interface ConfigChoice {
  path: string;
  from: 'option' | 'env' | 'default';
}

function isFile(p: string): boolean {
  return statSync(p, { throwIfNoEntry: false })?.isFile() ?? false;
}

/**
 * tw.ini's path: `--config`, else $NQGW_CONFIG, else /etc/nqgw/tw.ini. Throws a UsageError naming
 * what it tried when the file is not there (a missing file is a wrong call, not a bad config).
 */
export function resolveConfigPath(
  given: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): ConfigChoice {
  const fromEnv = env[CONFIG_ENV]?.trim();
  const choice: ConfigChoice =
    given !== undefined
      ? { path: given, from: 'option' }
      : fromEnv
        ? { path: fromEnv, from: 'env' }
        : { path: DEFAULT_CONFIG, from: 'default' };
  if (isFile(choice.path)) return choice;
  const what = existsSync(choice.path) ? 'is not a file' : 'does not exist';
  switch (choice.from) {
    case 'option':
      throw new UsageError(
        USAGE_CODES.CONFIG_GIVEN_MISSING,
        `--config ${choice.path}: ${what}`,
        'give the path of tw.ini, e.g. --config /etc/nqgw/tw.ini',
      );
    case 'env':
      throw new UsageError(
        USAGE_CODES.CONFIG_ENV_MISSING,
        `${CONFIG_ENV}=${choice.path} (no --config given): ${what}`,
        `correct ${CONFIG_ENV}, or give --config FILE`,
      );
    default:
      throw new UsageError(
        USAGE_CODES.CONFIG_DEFAULT_MISSING,
        `no tw.ini: --config not given, ${CONFIG_ENV} not set, and ${DEFAULT_CONFIG} ${what}`,
        `give --config FILE, or export ${CONFIG_ENV}=FILE`,
      );
  }
}

/** Find and load tw.ini as resolveConfigPath says (ConfigError NQ601 when its content is wrong). */
export function loadCliConfig(given: string | undefined, env: NodeJS.ProcessEnv = process.env): TwConfig {
  return loadConfig(resolveConfigPath(given, env).path);
}

/**
 * An option parser for a whole number from `min` up (commander reports the failure as a usage
 * error: `error: option '--count <n>' argument 'abc' is invalid. expected ...`).
 */
export function wholeNumber(min: number): (value: string) => number {
  return (value) => {
    const n = /^\s*-?\d+\s*$/.test(value) ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min)
      throw new InvalidArgumentError(`expected a whole number from ${min} up`);
    return n;
  };
}

/** An option parser for a number greater than zero (rates, seconds). */
export function positiveNumber(value: string): number {
  const n = value.trim() === '' ? Number.NaN : Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number greater than 0');
  return n;
}

/** An option parser for a CST date written YYYYMMDD. */
export function yyyymmdd(value: string): string {
  if (!/^\d{8}$/.test(value)) throw new InvalidArgumentError('expected a date as YYYYMMDD');
  return value;
}
