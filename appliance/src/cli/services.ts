import type { TwConfig } from '../config/index.js';
import type { Gateway } from '../gateway/index.js';
import { startLogServices } from './services-logs.js';
import { startOpsServices } from './services-ops.js';
import type { Service } from './service.js';

export type { Service } from './service.js';

/**
 * What runs beside the gateway in `nqgw run`: log shipping and the operations API. Each kind
 * lives in its own file (services-*.ts) so they can grow apart; all are stopped, in reverse
 * order, after the gateway has stopped, so the last lines and the last status still go out.
 */
export async function startServices(gateway: Gateway, config: TwConfig): Promise<Service[]> {
  const services: Service[] = [];
  const logs = await startLogServices(gateway, config);
  services.push(...logs.services);
  // The ops API publishes the shipping metrics: handed over here, not through a module global.
  services.push(...(await startOpsServices(gateway, config, logs.metrics)));
  return services;
}

export async function stopServices(services: Service[]): Promise<void> {
  for (const service of [...services].reverse()) {
    await service
      .stop()
      .catch((err: Error) => process.stderr.write(`stopping ${service.name}: ${err.message}\n`));
  }
}
