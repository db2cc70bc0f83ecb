import type { TwConfig } from '../config/index.js';
import type { Gateway } from '../gateway/index.js';
import { LogService, ObjectStore, parseLogSettings, uploadArchive, type ShipMetrics } from '../logs/index.js';
import { cstMinuteOfDay } from '../shared/index.js';
import type { Service } from './service.js';

/**
 * Log shipping beside the gateway (issue 6): every line of the operator log goes, through
 * winston, to JSON-lines segments in [logs] dir and, when [logs] names a store, to object
 * storage. stop() closes the open segment and ships within flush_timeout_s (SIGTERM flush), then
 * uploads the end-of-day archive when the stop comes after archive_after (CST).
 */
export interface LogServices {
  services: Service[];
  /** The shipping metrics while the log service runs (for the ops room to publish), else null. */
  metrics: () => ShipMetrics | null;
}

export async function startLogServices(gateway: Gateway, config: TwConfig): Promise<LogServices> {
  const settings = parseLogSettings(config);
  const service = new LogService({
    settings,
    onEvent: (level, text, code) => {
      gateway.log.write(level, text, code);
      process.stderr.write(`[${code}] ${text}\n`);
    },
  });
  service.start();
  // Lines written during start-up, before anyone could subscribe; then every line from here on.
  const before = gateway.log.recent();
  for (const line of before) service.log(line);
  if (before.length >= 200) {
    gateway.log.warn(`启动阶段日志超过 ${before.length} 行, 更早的行只在 gateway.log 中`, 'NQ814');
  }
  const unsubscribe = gateway.log.subscribe((line) => service.log(line));
  let running = true;
  const services: Service[] = [
    {
      name: 'logs',
      stop: async () => {
        unsubscribe();
        running = false;
        // One budget for the whole stop (flush, then the archive): systemd's TimeoutStopSec is 30 s.
        const stopDeadline = Date.now() + settings.flushTimeoutMs;
        const drained = await service.stop();
        const m = service.metrics();
        if (m.shipping)
          process.stderr.write(
            `logs: ${drained ? 'flushed' : 'NOT all shipped, kept in spool'}; shipped ${m.objectsShipped}, failures ${m.failures}, dropped ${m.linesDropped}\n`,
          );
        if (
          settings.store &&
          settings.archiveAfter !== null &&
          cstMinuteOfDay(Date.now()) >= settings.archiveAfter
        ) {
          const store = new ObjectStore(settings.store, { deadline: stopDeadline });
          try {
            const res = await uploadArchive(config, settings, store);
            process.stderr.write(`archive: ${res.manifestKey} (${res.manifest.files.length} files)\n`);
          } catch (err) {
            process.stderr.write(
              `archive failed: ${(err as Error).message}; run nqgw archive --config ${config.source}\n`,
            );
          } finally {
            store.destroy();
          }
        }
      },
    },
  ];
  return { services, metrics: () => (running ? service.metrics() : null) };
}
