import { AppError } from '../shared/index.js';

/**
 * Exit codes every nqgw command keeps, so scripts can tell a bad call from a refusal from a
 * gateway that is down: 0 fine, 1 running but degraded, 2 bad input or configuration,
 * 3 refused or not running, 70 internal error.
 */
export const EXIT = { OK: 0, DEGRADED: 1, BAD_INPUT: 2, REFUSED: 3, INTERNAL: 70 } as const;

/** Print a typed error the way an operator needs it: code, words, what to do. */
export function printError(err: unknown): void {
  if (err instanceof AppError) {
    process.stderr.write(`[${err.code}] ${err.message}\n`);
    if (err.hint) process.stderr.write(`  -> ${err.hint}\n`);
    const problems = (err as { problems?: unknown[] }).problems;
    if (Array.isArray(problems)) {
      for (const p of problems as { file: string; line: number | null; message: string; hint: string }[]) {
        process.stderr.write(`  ${p.file}${p.line ? `:${p.line}` : ''} ${p.message} - ${p.hint}\n`);
      }
    }
    return;
  }
  process.stderr.write(`${(err as Error)?.stack ?? String(err)}\n`);
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
