import type { TwConfig } from '../config/index.js';
import type { Gateway } from '../gateway/index.js';
import type { Service } from './services.js';

/** The operations API, metrics and status page beside the gateway (issue 5). */
export async function startOpsServices(_gateway: Gateway, _config: TwConfig): Promise<Service[]> {
  return [];
}
