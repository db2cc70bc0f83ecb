import type { Command } from 'commander';
import { INI_ENCODING_CODES, readIniFile } from '../config/index.js';
import { DAY_ENDED, Gateway } from '../gateway/index.js';
import { MainStationSimulator, loadSimConfig } from '../sim/index.js';
import { AppError } from '../shared/index.js';
import { EXIT, printError, untilSignal } from './output.js';
import { startServices, stopServices, type Service } from './services.js';
import { configOption, loadCliConfig } from './usage.js';

/**
 * `nqgw run` after the gateway stopped itself at the CST day change (NQ220): a clean stop that
 * asks for the new day's start, told apart from 0 (stopped, auto_exit) and from failures.
 */
export const EXIT_DAY_ENDED = 4;

/** Codes of errors in tw.ini's settings (any section): exit 2, like `nqgw config check`. */
const SETTINGS_ERRORS = new Set(['NQ601', 'NQ801', 'CLOCK_SETTING']);

/** Whether the gateway's operator log already holds the error's words under its code. */
function alreadySaid(gateway: Gateway, err: unknown): boolean {
  if (!(err instanceof AppError)) return false;
  return gateway.log.recent().some((l) => l.code === err.code && l.text.includes(err.message));
}

export function registerRunCommands(program: Command): void {
  configOption(program.command('run').description('run the gateway in the foreground until SIGTERM')).action(
    async (opts: { config?: string }) => {
      // A wrong call or tw.ini is thrown to main.ts's one handler: exit 2, each problem once.
      const config = loadCliConfig(opts.config);
      const gateway = new Gateway(config, { stdout: true });
      const encoding = readIniFile(config.source);
      if ('encoding' in encoding && encoding.encoding === 'GBK')
        gateway.log.info(`tw.ini 按 GBK 编码读取: ${config.source}`, INI_ENCODING_CODES.GBK_READ);
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
        // Said once: a refusal the gateway already logged in its own words (the vendor's three
        // start-up lines, NQ203/NQ202/NQ201) is not printed again; only what to do is added.
        if (!alreadySaid(gateway, err)) printError(err);
        else if (err instanceof AppError && err.hint) process.stderr.write(`  -> ${err.hint}\n`);
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
          void shutdown()
            .then((code) => process.exit(reason === DAY_ENDED ? EXIT_DAY_ENDED : code))
            .catch((err: unknown) => {
              // As on a signal (untilSignal): a stop that failed is printed, and the exit says so.
              printError(err);
              process.exit(EXIT.INTERNAL);
            }),
      );
    },
  );

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
