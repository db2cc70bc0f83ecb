import type { Command } from 'commander';
import { initLab } from '../lab/index.js';
import { EXIT, printError } from './output.js';

export function registerLabCommands(program: Command): void {
  const lab = program.command('lab').description('the loopback lab: simulator, gateway and files in one folder');
  lab
    .command('init <dir>')
    .description('write a complete loopback lab (PKI, tw.ini, sim.ini, NQWT.DBF, lab.json)')
    .option('--station <id>', 'station id (小站号)', 'W888888T')
    .option('--units <list>', 'trading units, comma-separated', '729900,729901')
    .action(async (dir: string, opts: { station: string; units: string }) => {
      try {
        const units = opts.units.split(',').map((u) => u.trim());
        const described = await initLab(dir, { station: opts.station, units });
        process.stdout.write(`lab written to ${described.dir}\n`);
        process.stdout.write(`  simulator: nqgw sim --config ${described.simIni}\n`);
        process.stdout.write(`  gateway:   nqgw run --config ${described.twIni}\n`);
        process.stdout.write(`  orders:    nqgw feed --config ${described.twIni} --count 100\n`);
      } catch (err) {
        printError(err);
        process.exitCode = EXIT.BAD_INPUT;
      }
    });
}
