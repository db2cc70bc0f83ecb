import type { Command } from 'commander';
import { initLab } from '../lab/index.js';
import { EXIT, printError } from './output.js';

interface S3Options {
  s3Endpoint?: string;
  s3Bucket: string;
}

export function registerLabCommands(program: Command): void {
  const lab = program
    .command('lab')
    .description('the loopback lab: simulator, gateway and files in one folder');
  lab
    .command('init <dir>')
    .description('write a complete loopback lab (PKI, tw.ini, sim.ini, NQWT.DBF, lab.json)')
    .option('--station <id>', 'station id (小站号)', 'W888888T')
    .option('--units <list>', 'trading units, comma-separated', '729900,729901')
    .option('--s3-endpoint <url>', 'object storage for log shipping ([logs] endpoint)')
    .option('--s3-bucket <name>', 'bucket for log shipping ([logs] bucket)', 'nqgw-logs')
    .action(async (dir: string, opts: { station: string; units: string } & S3Options) => {
      try {
        const units = opts.units.split(',').map((u) => u.trim());
        const s3 = opts.s3Endpoint ? { s3: { endpoint: opts.s3Endpoint, bucket: opts.s3Bucket } } : {};
        const described = await initLab(dir, { station: opts.station, units, ...s3 });
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
