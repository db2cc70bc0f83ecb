import { EventEmitter } from 'node:events';
import type { TwConfig } from '../../../appliance/src/config/index.js';
import { OperatorLog } from '../../../appliance/src/gateway/index.js';
import type { OpsSource } from '../../../appliance/src/ops/index.js';
import { systemClock } from '../../../appliance/src/shared/index.js';
import type { GatewayStatus } from '../../../appliance/src/gateway/index.js';

export function makeStatus(over: Partial<GatewayStatus> = {}): GatewayStatus {
  return {
    pid: 1,
    station: 'W888888T',
    units: ['729900'],
    server: 'server1 127.0.0.1:7043',
    returns: 0,
    pending: 0,
    sent: 0,
    accepted: 0,
    rejected: 0,
    awaitingAnswer: 0,
    linkState: '正常',
    marketState: 'OPEN',
    notice: '',
    lastReturnSeq: 0,
    heartbeatsSinceLogon: 0,
    lastHeartbeatAt: null,
    holds: [],
    clock: null,
    tlsMode: 'file',
    ekey: null,
    soft: null,
    startedAt: new Date(0).toISOString(),
    updatedAt: new Date(0).toISOString(),
    log: [],
    ...over,
  };
}

/** The ops room's view of a gateway, recording the levers pulled. */
export class FakeGateway extends EventEmitter implements OpsSource {
  readonly log = new OperatorLog({ clock: systemClock, stdout: false });
  current: GatewayStatus = makeStatus();
  calls: string[] = [];
  constructor(readonly config: TwConfig) {
    super();
  }
  status(): GatewayStatus {
    return this.current;
  }
  hold(reason: string, on: boolean): void {
    this.calls.push(`hold ${reason} ${on}`);
  }
  reconnect(reason: string): void {
    this.calls.push(`reconnect ${reason}`);
  }
  switchTo(index: number): void {
    this.calls.push(`switch ${index}`);
  }
}

export function fakeConfig(stateDir: string, requireChecker = false): TwConfig {
  return {
    station: { id: 'W888888T', units: ['729900'] },
    files: { stateDir },
    servers: [{ name: 'server1', host: '127.0.0.1', port: 7043 }],
    link: { heartbeatMs: 10_000 },
    tls: { mode: 'file' },
    management: { host: '127.0.0.1', port: 0, tokenFile: '/nonexistent', requireChecker },
  } as unknown as TwConfig;
}
