import type { Command } from 'commander';
import { OrderFileAppender, readOrderFile } from '../dbf/index.js';
import { makeOrder } from '../lab/index.js';
import { configOption, loadCliConfig, positiveNumber, wholeNumber } from './usage.js';

/**
 * `nqgw feed`: append valid orders to NQWT.DBF as the broker's counter program would, at a given
 * rate. Serial numbers continue after the highest already in the file, so feeding twice in a day
 * never repeats one.
 */
export async function feedOrders(
  ordersPath: string,
  units: string[],
  count: number,
  rate: number | null,
  onProgress?: (done: number) => void,
): Promise<number> {
  let serial = 0;
  for (const row of await readOrderFile(ordersPath)) serial = Math.max(serial, Number(row.LSH) || 0);
  const appender = await OrderFileAppender.open(ordersPath);
  try {
    const tickMs = 10;
    const perTick = rate ? Math.max(1, Math.round((rate * tickMs) / 1000)) : 1000;
    let done = 0;
    const started = Date.now();
    while (done < count) {
      const n = Math.min(perTick, count - done);
      const rows = [];
      for (let i = 0; i < n; i++) {
        serial++;
        rows.push(makeOrder(units[serial % units.length]!, serial, Date.now()));
      }
      await appender.append(rows);
      done += n;
      onProgress?.(done);
      if (rate) {
        const due = started + (done / rate) * 1000;
        const wait = due - Date.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      }
    }
    return done;
  } finally {
    await appender.close();
  }
}

export function registerFeedCommand(program: Command): void {
  configOption(
    program.command('feed').description("append valid orders to NQWT.DBF as the broker's program would"),
  )
    .requiredOption('--count <n>', 'number of orders', wholeNumber(1))
    .option('--rate <r>', 'orders per second (default: as fast as possible)', positiveNumber)
    .action(async (opts: { config?: string; count: number; rate?: number }) => {
      // Failures go to main.ts's one handler (a wrong tw.ini: exit 2, said once).
      const config = loadCliConfig(opts.config);
      const done = await feedOrders(config.files.orders, config.station.units, opts.count, opts.rate ?? null);
      process.stdout.write(`appended ${done} orders to ${config.files.orders}\n`);
    });
}
