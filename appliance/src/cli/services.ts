import type { TwConfig } from '../config/index.js';
import type { Gateway } from '../gateway/index.js';
import { startLogServices } from './services-logs.js';
import { startOpsServices } from './services-ops.js';

/**
 * What runs beside the gateway in `nqgw run`: log shipping and the operations API. Each kind
 * lives in its own file (services-*.ts) so they can grow apart; all are stopped, in reverse
 * order, after the gateway has stopped, so the last lines and the last status still go out.
 */
export interface Service {
  name: string;
  stop(): Promise<void>;
}

export async function startServices(gateway: Gateway, config: TwConfig): Promise<Service[]> {
  const services: Service[] = [];
  services.push(...(await startLogServices(gateway, config)));
  services.push(...(await startOpsServices(gateway, config)));
  return services;
}

export async function stopServices(services: Service[]): Promise<void> {
  for (const service of [...services].reverse()) {
    await service
      .stop()
      .catch((err: Error) => process.stderr.write(`stopping ${service.name}: ${err.message}\n`));
  }
}
