import type { TwConfig } from '../config/index.js';
import type { Gateway } from '../gateway/index.js';
import type { Service } from './services.js';

/** Log shipping beside the gateway (issue 6). */
export async function startLogServices(_gateway: Gateway, _config: TwConfig): Promise<Service[]> {
  return [];
}
