import type { TwConfig } from '../config/index.js';
import type { GatewayStatus, OperatorLine } from '../gateway/index.js';

/**
 * What the ops room needs from the gateway: its status and log (read), and the operator's
 * levers. `Gateway` satisfies it; unit tests pass a fake.
 */
export interface OpsSource {
  readonly config: TwConfig;
  readonly log: {
    subscribe(listener: (line: OperatorLine) => void): () => void;
    recent(): OperatorLine[];
    write(level: 'info' | 'warn' | 'error', text: string, code?: string): void;
  };
  status(): GatewayStatus;
  hold(reason: string, on: boolean): void;
  reconnect(reason: string): void;
  switchTo(index: number): void;
  on(event: 'status', listener: (status: GatewayStatus) => void): unknown;
  off(event: 'status', listener: (status: GatewayStatus) => void): unknown;
}

/** 0-based index in config.servers of the server the status names, or -1. */
export function serverIndexOf(config: TwConfig, status: GatewayStatus): number {
  return config.servers.findIndex((s) => `${s.name} ${s.host}:${s.port}` === status.server);
}

/** The operator's hold reason for pause/resume. */
export const OPERATOR_HOLD = 'operator';
