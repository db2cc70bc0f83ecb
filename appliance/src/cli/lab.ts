import type { Command } from 'commander';
import { initLab, LAB_EKEY_KINDS, type LabEkeyKind } from '../lab/index.js';
import { AppError } from '../shared/index.js';
import { EXIT, printError, shellArg } from './output.js';

interface S3Options {
  s3Endpoint?: string;
  s3Bucket: string;
  ekey?: string;
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
    .option('--ekey <kind>', 'the station key on a token, tw.ini in [tls] mode = ekey (kind: softhsm)')
    .option('--force', 'rewrite a lab already in DIR (new ports, certificates, tw.ini)')
    .action(async (dir: string, opts: { station: string; units: string; force?: boolean } & S3Options) => {
      try {
        const units = opts.units.split(',').map((u) => u.trim());
        const s3 = opts.s3Endpoint ? { s3: { endpoint: opts.s3Endpoint, bucket: opts.s3Bucket } } : {};
        if (opts.ekey !== undefined && !(LAB_EKEY_KINDS as readonly string[]).includes(opts.ekey)) {
          throw new AppError(
            'NQ902',
            `--ekey ${opts.ekey}: unknown kind`,
            `Use --ekey ${LAB_EKEY_KINDS.join(' | ')}.`,
          );
        }
        const ekey = opts.ekey !== undefined ? { ekey: opts.ekey as LabEkeyKind } : {};
        const force = opts.force === true ? { force: true } : {};
        const described = await initLab(dir, { station: opts.station, units, ...s3, ...ekey, ...force });
        process.stdout.write(`lab written to ${described.dir}\n`);
        const { sim, management } = described;
        process.stdout.write(
          `  ports:     simulator ${sim.port}, simulator admin ${sim.adminPort}, management ${management.port}\n`,
        );
        if (described.ekey) {
          // Where the PIN is, never the PIN itself.
          process.stdout.write(
            `  EKey:      SoftHSM2 token '${described.ekey.tokenLabel}', key id ${described.ekey.keyId}, PIN in ${described.ekey.pinFile}\n`,
          );
          process.stdout.write(`  check:     nqgw ekey status --config ${shellArg(described.twIni)}\n`);
        }
        process.stdout.write(`  simulator: nqgw sim --config ${shellArg(described.simIni)}\n`);
        process.stdout.write(`  gateway:   nqgw run --config ${shellArg(described.twIni)}\n`);
        process.stdout.write(`  orders:    nqgw feed --config ${shellArg(described.twIni)} --count 100\n`);
      } catch (err) {
        printError(err);
        process.exitCode = EXIT.BAD_INPUT;
      }
    });
}
