import type { Command } from 'commander';
import { CUTOVER_EXIT, runCutover } from '../cutover/index.js';

/**
 * `nqgw cutover --config F [--drill] [--json] [--start-command CMD] [--timeout S]`: preflight,
 * start as active, verify logon and first heartbeat; each step printed with its time.
 * Exit codes: 0 GO, 3 NO-GO, 2 bad input (tw.ini wrong, bad arguments).
 */
export function registerCutoverCommand(program: Command): void {
  program
    .command('cutover')
    .description(
      'preflight, start this replica as the active gateway, verify logon and first heartbeat (exit 0 GO, 3 NO-GO, 2 bad input)',
    )
    .requiredOption('--config <file>', 'tw.ini')
    .option(
      '--drill',
      'non-trading-day drill: the same against scratch files, stopped and removed afterwards',
    )
    .option('--json', 'print the steps and the verdict as JSON')
    .option('--start-command <cmd>', 'start the gateway with this shell command ({config} = tw.ini path)')
    .option('--timeout <seconds>', 'wait this long for logon and first heartbeat', '60')
    .action(
      async (opts: {
        config: string;
        drill?: boolean;
        json?: boolean;
        startCommand?: string;
        timeout: string;
      }) => {
        const timeoutS = Number(opts.timeout);
        if (!Number.isFinite(timeoutS) || timeoutS <= 0) {
          process.stderr.write(
            `--timeout must be a positive number of seconds, got ${JSON.stringify(opts.timeout)}\n`,
          );
          process.exitCode = CUTOVER_EXIT.BAD_INPUT;
          return;
        }
        const sink = opts.json ? null : { line: (text: string) => process.stdout.write(`${text}\n`) };
        const result = await runCutover(
          {
            config: opts.config,
            drill: opts.drill === true,
            timeoutS,
            ...(opts.startCommand !== undefined ? { startCommand: opts.startCommand } : {}),
          },
          sink,
        );
        if (opts.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
        else process.stdout.write(`${result.go ? 'GO' : 'NO-GO'}\n`);
        process.exitCode = result.exitCode;
      },
    );
}
