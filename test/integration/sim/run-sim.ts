/**
 * Runs the simulator in a child process for the kill -9 test:
 * `vite-node test/integration/sim/run-sim.ts <sim.ini>`. Its log goes to stdout; the first line
 * says the ports ("listening on 127.0.0.1:<port>, admin on 127.0.0.1:<port>").
 */
import { runSimulator } from '../../../appliance/src/sim/index.js';

const ini = process.argv[process.argv.length - 1];
if (ini === undefined || !ini.endsWith('.ini')) {
  process.stderr.write('usage: run-sim.ts <sim.ini>\n');
  process.exit(2);
}
await runSimulator(ini);
