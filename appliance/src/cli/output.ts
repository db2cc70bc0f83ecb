import { CommanderError } from 'commander';
import { AppError } from '../shared/index.js';

/**
 * Exit codes every nqgw command keeps, so scripts can tell a bad call from a refusal from a
 * gateway that is down: 0 fine, 1 running but degraded, 2 bad input or configuration,
 * 3 refused or not running, 70 internal error.
 */
export const EXIT = { OK: 0, DEGRADED: 1, BAD_INPUT: 2, REFUSED: 3, INTERNAL: 70 } as const;

/**
 * Print a failure once, the way an operator needs it: `[code] words`, then what to do. A
 * ConfigError's message already lists every problem with its line, so nothing is repeated; an
 * error that is not one of ours: its message, and the stack only with NQGW_DEBUG=1.
 */
export function printError(err: unknown): void {
  if (err instanceof CommanderError) return; // commander printed its own line already
  if (err instanceof AppError) {
    process.stderr.write(`[${err.code}] ${err.message}\n`);
    if (err.hint) process.stderr.write(`  -> ${err.hint}\n`);
    return;
  }
  const e = err instanceof Error ? err : new Error(String(err));
  process.stderr.write(`nqgw: ${e.message}\n`);
  if (process.env['NQGW_DEBUG']) process.stderr.write(`${e.stack ?? ''}\n`);
  else process.stderr.write('  -> NQGW_DEBUG=1 shows where in nqgw it came from\n');
}

/**
 * The exit code of a failure that reached the top of the command: a wrong call or a wrong tw.ini
 * is 2 (commander's own usage errors included, which it would make 1: "degraded"), help and
 * --version 0, anything else (a fault) 70.
 */
export function exitCodeFor(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.OK : EXIT.BAD_INPUT;
  if (err instanceof AppError) return EXIT.BAD_INPUT;
  return EXIT.INTERNAL;
}

/** The one top-level handler: print the failure once and give its exit code. */
export function reportFailure(err: unknown): number {
  printError(err);
  return exitCodeFor(err);
}

/** A path or word as it can be pasted into a shell (quoted only when it must be). */
export function shellArg(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Run until SIGTERM or SIGINT, then call stop once and exit with its code. */
export function untilSignal(stop: () => Promise<number>): void {
  let stopping = false;
  const onSignal = (): void => {
    if (stopping) return;
    stopping = true;
    stop()
      .then((code) => process.exit(code))
      .catch((err) => {
        printError(err);
        process.exit(EXIT.INTERNAL);
      });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}
