/**
 * Run the simulator as a process: `node dist/appliance/src/sim/main.js path/to/sim.ini`.
 * Stops cleanly on SIGINT/SIGTERM; a kill -9 loses nothing that was answered (see store.ts).
 */
import { pathToFileURL } from 'node:url';
import { loadSimConfig } from './config.js';
import { MainStationSimulator } from './simulator.js';

export async function runSimulator(iniPath: string): Promise<MainStationSimulator> {
  const sim = new MainStationSimulator(await loadSimConfig(iniPath));
  await sim.start();
  const stop = (): void => {
    sim.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return sim;
}

const entry = process.argv[1];
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  const ini = process.argv[2];
  if (ini === undefined) {
    process.stderr.write('usage: main.js <sim.ini>\n');
    process.exit(2);
  }
  runSimulator(ini).catch((err: unknown) => {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  });
}
