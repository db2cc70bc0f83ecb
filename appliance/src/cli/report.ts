import type { Command } from 'commander';
import { ObjectStore, parseLogSettings } from '../logs/index.js';
import { collectDailyReport, shipReport } from '../report/index.js';
import { AppError } from '../shared/index.js';
import { EXIT, printError } from './output.js';
import { renderDailyReport } from './report-text.js';
import { loadCliConfig, UsageError, USAGE_CODES, yyyymmdd } from './usage.js';

/** Shipping the report failed (the report itself was printed). */
class ReportShipError extends AppError {
  constructor(cause: Error) {
    super(
      'NQ831',
      `日报上传对象存储失败: ${cause.message}`,
      'check [logs] endpoint, bucket and credentials (nqgw logs ship-status), then run nqgw report daily --ship again',
      { cause },
    );
  }
}

/**
 * `nqgw report daily [--date YYYYMMDD] [--json] [--ship]`: the daily report (日报) of a trading
 * day, from the gateway's records (report/). Works whether or not the gateway runs. Exit 0
 * printed (and shipped); 2 bad call or tw.ini, or --ship without object storage; 3 --ship failed.
 */
export function registerReportCommands(program: Command): void {
  const report = program.command('report').description('reports of the gateway for the DR duty (日报)');
  report
    .command('daily')
    .description(
      'the daily report of a trading day: orders, returns, rejections, unsent, link, alerts, clock, shipping, soft window, EKey, version and config hash',
    )
    .requiredOption('--config <file>', 'tw.ini')
    .option('--date <yyyymmdd>', 'trading day (CST), default today', yyyymmdd)
    .option('--json', 'print the report as JSON')
    .option(
      '--ship',
      "also put it to object storage beside the day's archive (archive/DATE/report-HHMMSS.json and .txt)",
    )
    .action(async (opts: { config: string; date?: string; json?: boolean; ship?: boolean }) => {
      const config = loadCliConfig(opts.config);
      const settings = parseLogSettings(config);
      if (opts.ship && !settings.store)
        throw new UsageError(
          USAGE_CODES.NOT_CONFIGURED,
          `nowhere to ship the report to: [logs] in ${config.source} has no endpoint and bucket (object storage)`,
          'add endpoint = URL and bucket = NAME under [logs] (docs/logs.md), or leave out --ship',
        );
      const r = await collectDailyReport(config, opts.date ? { date: opts.date } : {});
      const text = renderDailyReport(r);
      process.stdout.write(opts.json ? `${JSON.stringify(r, null, 2)}\n` : text);
      if (!opts.ship || !settings.store) return;
      const store = new ObjectStore(settings.store);
      try {
        const shipped = await shipReport(r, text, settings, store);
        process.stderr.write(`shipped: ${shipped.jsonKey}\nshipped: ${shipped.textKey}\n`);
      } catch (err) {
        printError(new ReportShipError(err as Error));
        process.exitCode = EXIT.REFUSED;
      } finally {
        store.destroy();
      }
    });
}
