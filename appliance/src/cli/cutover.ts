import type { Command } from 'commander';
import { CUTOVER_EXIT, runCutover, runFailBack, type CutoverResult } from '../cutover/index.js';

interface CutoverCliOptions {
  config: string;
  drill?: boolean;
  json?: boolean;
  startCommand?: string;
  timeout: string;
  operator?: string;
  approver?: string;
  faultAt?: string;
  preflightOnly?: boolean;
  force?: boolean;
  takeOverFrom?: string;
  failBack?: boolean;
}

/**
 * `nqgw cutover [--config F] [--drill [--force]] [--preflight-only] [--take-over-from HOST]
 * [--fail-back] [--operator NAME] [--approver NAME] [--fault-at TIME] [--json]
 * [--start-command CMD] [--timeout S]`: preflight, start as active, verify logon and first
 * heartbeat; each step printed with its time, progress lines while it waits.
 * Exit codes: 0 GO (preflight-only: ready), 1 preflight-only: not ready, 3 NO-GO or refused,
 * 2 bad input (tw.ini wrong, bad arguments).
 */
export function registerCutoverCommand(program: Command): void {
  program
    .command('cutover')
    .description(
      'preflight, start this replica as the active gateway, verify logon and first heartbeat (exit 0 GO, 3 NO-GO, 2 bad input)',
    )
    .requiredOption('--config <file>', 'tw.ini')
    .option('--operator <name>', 'who does it (recorded in the audit log; default: the login name)')
    .option(
      '--approver <name>',
      'who approved it (批准人: emergency command group leader or authorised IT head; required with require_checker = yes)',
    )
    .option(
      '--drill',
      'non-trading-day drill: the same against scratch files, stopped and removed afterwards',
    )
    .option('--force', 'with --drill: run it on a trading day anyway (recorded in the audit log)')
    .option(
      '--preflight-only',
      'the checks up to the TLS handshake, no start, no logon (exit 0 ready, 1 not)',
    )
    .option(
      '--take-over-from <host>',
      'remove the lock of the gateway on HOST (down: its lease lapsed) before the start',
    )
    .option('--fail-back', 'this replica stops being the active one (gateway stopped, daily start disabled)')
    .option(
      '--fault-at <time>',
      'when the fault at the main centre happened (HH:MM[:SS] CST today, or ISO): RTO from it',
    )
    .option('--json', 'print the steps and the verdict as JSON')
    .option('--start-command <cmd>', 'start the gateway with this shell command ({config} = tw.ini path)')
    .option('--timeout <seconds>', 'wait this long for logon and first heartbeat', '60')
    .action(async (opts: CutoverCliOptions) => {
      const timeoutS = Number(opts.timeout);
      if (!Number.isFinite(timeoutS) || timeoutS <= 0) {
        process.stderr.write(
          `--timeout must be a positive number of seconds, got ${JSON.stringify(opts.timeout)}\n`,
        );
        process.exitCode = CUTOVER_EXIT.BAD_INPUT;
        return;
      }
      const print = (text: string): boolean => process.stdout.write(`${text}\n`);
      const sink = opts.json ? null : { line: print };
      // With --json the progress lines go to stderr, so stdout stays one JSON document.
      const progress = { line: opts.json ? (t: string) => process.stderr.write(`${t}\n`) : print };
      const people = {
        ...(opts.operator !== undefined ? { operator: opts.operator } : {}),
        ...(opts.approver !== undefined ? { approver: opts.approver } : {}),
      };
      let result: CutoverResult;
      if (opts.failBack) {
        if (opts.drill || opts.preflightOnly || opts.takeOverFrom !== undefined) {
          process.stderr.write('--fail-back goes alone (with --operator, --approver)\n');
          process.exitCode = CUTOVER_EXIT.BAD_INPUT;
          return;
        }
        result = await runFailBack({ config: opts.config, ...people }, sink);
      } else {
        result = await runCutover(
          {
            config: opts.config,
            drill: opts.drill === true,
            preflightOnly: opts.preflightOnly === true,
            force: opts.force === true,
            timeoutS,
            ...people,
            ...(opts.faultAt !== undefined ? { faultAt: opts.faultAt } : {}),
            ...(opts.takeOverFrom !== undefined ? { takeOverFrom: opts.takeOverFrom } : {}),
            ...(opts.startCommand !== undefined ? { startCommand: opts.startCommand } : {}),
          },
          sink,
          undefined,
          undefined,
          progress,
        );
      }
      if (opts.json) print(JSON.stringify(result, null, 2));
      else if (opts.failBack) print(result.go ? 'FAIL-BACK DONE' : 'FAIL-BACK NOT DONE');
      else if (opts.preflightOnly) print(result.go ? 'READY' : 'NOT READY');
      else print(result.go ? 'GO' : 'NO-GO');
      process.exitCode = result.exitCode;
    });
}
