import type { TwConfig } from '../config/index.js';
import type { Gateway } from '../gateway/index.js';
import type { ShipMetrics } from '../logs/index.js';
import { OpsServer } from '../ops/index.js';
import type { Service } from './service.js';
import { startAlertRecordAndChannels } from './services-report.js';

/**
 * The operations API, metrics and status page beside the gateway (issue 5), on the
 * [management] address. A token file that others can read stops `nqgw run` with NQ961.
 * The alert webhook: `[management] alert_webhook`, or NQGW_ALERT_WEBHOOK=URL (wins, for a
 * one-off without editing tw.ini). `logShipping`: the log service's metrics (services-logs.ts).
 */
export async function startOpsServices(
  gateway: Gateway,
  config: TwConfig,
  logShipping: () => ShipMetrics | null,
): Promise<Service[]> {
  const webhookUrl = process.env['NQGW_ALERT_WEBHOOK'] || config.management.alertWebhook;
  const server = new OpsServer(gateway, {
    host: config.management.host,
    port: config.management.port,
    ...(webhookUrl ? { webhookUrl } : {}),
    onStop: () => process.kill(process.pid, 'SIGTERM'),
    logShipping,
  });
  await server.start();
  gateway.log.info(`管理接口 ${server.url} (status page, API, /metrics)`, 'NQ960');
  // The day record (daily report) and the [alerts] channels, on the API's alert engine; stopped first.
  const record = startAlertRecordAndChannels(gateway, config, server.alerts);
  return [{ name: 'ops-api', stop: () => server.stop() }, ...record];
}
