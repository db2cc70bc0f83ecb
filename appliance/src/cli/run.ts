import type { Command } from 'commander';
import { loadConfig } from '../config/index.js';
import { DAY_ENDED, Gateway } from '../gateway/index.js';
import { MainStationSimulator, loadSimConfig } from '../sim/index.js';
import { EXIT, printError, untilSignal } from './output.js';
import { startServices, stopServices, type Service } from './services.js';

/**
 * `nqgw run` after the gateway stopped itself at the CST day change (NQ220): a clean stop that
 * asks for the new day's start, told apart from 0 (stopped, auto_exit) and from failures.
 */
export const EXIT_DAY_ENDED = 4;

/** Codes of errors in tw.ini's settings (any section): exit 2, like `nqgw config check`. */
const SETTINGS_ERRORS = new Set(['NQ601', 'NQ801', 'CLOCK_SETTING']);

export function registerRunCommands(program: Command): void {
  program
    .command('run')
    .description('run the gateway in the foreground until SIGTERM')
    .requiredOption('--config <file>', 'tw.ini')
    .action(async (opts: { config: string }) => {
      let gateway: Gateway;
      try {
        gateway = new Gateway(loadConfig(opts.config), { stdout: true });
      } catch (err) {
        printError(err);
        process.exitCode = EXIT.BAD_INPUT;
        return;
      }
      // Handlers first: a SIGTERM during start-up waits for it to settle, then stops cleanly.
      let services: Service[] = [];
      const starting = gateway.start().then(async () => {
        services = await startServices(gateway, gateway.config);
      });
      const shutdown = async (): Promise<number> => {
        await starting.catch(() => undefined);
        await gateway.stop();
        await stopServices(services);
        return EXIT.OK;
      };
      untilSignal(shutdown);
      try {
        await starting;
      } catch (err) {
        printError(err);
        await gateway.stop().catch(() => undefined);
        await stopServices(services);
        process.exit(
          SETTINGS_ERRORS.has((err as { code?: string }).code ?? '') ? EXIT.BAD_INPUT : EXIT.REFUSED,
        );
      }
      // A gateway that stopped at the CST day change exits DAY_ENDED (nqgw.service lists it in
      // SuccessExitStatus= and RestartPreventExitStatus=: no restart into an NQ203 refusal).
      gateway.on(
        'exit',
        (reason: string) =>
          void shutdown().then((code) => process.exit(reason === DAY_ENDED ? EXIT_DAY_ENDED : code)),
      );
    });

  program
    .command('sim')
    .description('run the main-station simulator in the foreground until SIGTERM')
    .requiredOption('--config <file>', 'sim.ini')
    .action(async (opts: { config: string }) => {
      let sim: MainStationSimulator;
      try {
        sim = new MainStationSimulator(await loadSimConfig(opts.config));
        await sim.start();
      } catch (err) {
        printError(err);
        process.exitCode = EXIT.BAD_INPUT;
        return;
      }
      process.stdout.write(`simulator listening on ${sim.port}, admin on ${sim.adminPort}\n`);
      untilSignal(async () => {
        await sim.stop();
        return EXIT.OK;
      });
    });
}
