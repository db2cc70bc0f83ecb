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
