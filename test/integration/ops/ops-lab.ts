import { readFileSync } from 'node:fs';
import type { LabDescription } from '../../../appliance/src/lab/index.js';
import { makeLab, setIni, simReady, startGateway, startSim, type SimAdmin } from '../../helpers/lab.js';
import { waitUntil, type NqgwProcess } from '../../helpers/process.js';
import { TcpForwarder } from '../../helpers/proxy.js';

/**
 * A lab with two servers in tw.ini (server2, named 福田, is a TCP forwarder to the same
 * simulator), sim and gateway up.
 */
export interface OpsLab {
  lab: LabDescription;
  admin: SimAdmin;
  gateway: NqgwProcess;
  sim: NqgwProcess;
  forwarder: TcpForwarder;
  url: string;
  token: string;
  stop(): Promise<void>;
  api<T = Record<string, unknown>>(
    route: string,
    init?: RequestInit & { operator?: string },
  ): Promise<{ status: number; body: T }>;
}

export async function startOpsLab(env: NodeJS.ProcessEnv = {}): Promise<OpsLab> {
  const lab = await makeLab();
  const forwarder = new TcpForwarder(lab.sim.port);
  await forwarder.start();
  setIni(lab.twIni, 'servers', 'server2_name', '福田');
  setIni(lab.twIni, 'servers', 'server2', `127.0.0.1:${forwarder.port}`);
  const sim = startSim(lab);
  const admin = await simReady(lab);
  const gateway = startGateway(lab, env);
  await gateway.waitFor(/小站端与服务器连接成功/);
  const url = lab.management.url;
  const token = readFileSync(lab.management.tokenFile, 'utf8').trim();
  await waitUntil(async () => (await fetch(`${url}/healthz`)).ok, 'ops API up');
  const api = async <T>(route: string, init: RequestInit & { operator?: string } = {}) => {
    const { operator, ...rest } = init;
    const res = await fetch(`${url}${route}`, {
      ...rest,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        ...(operator ? { 'x-nqgw-operator': operator } : {}),
        ...(rest.headers as Record<string, string> | undefined),
      },
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // text body
    }
    return { status: res.status, body: body as T };
  };
  const stop = async (): Promise<void> => {
    await gateway.stop('SIGKILL');
    await sim.stop('SIGKILL');
    await forwarder.stop();
  };
  return { lab, admin, gateway, sim, forwarder, url, token, api, stop };
}
