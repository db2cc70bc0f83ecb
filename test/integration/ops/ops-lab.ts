import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { LabDescription } from '../../../appliance/src/lab/index.js';
import { makeLab, setIni, simReady, startGateway, startSim, type SimAdmin } from '../../helpers/lab.js';
import { waitUntil, type NqgwProcess } from '../../helpers/process.js';
import { TcpForwarder } from '../../helpers/proxy.js';
import { pinnedRequest } from '../../helpers/https.js';

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
  /** The API's own certificate (PEM) when the lab runs it with `tls = yes`. */
  ca: string | null;
  stop(): Promise<void>;
  api<T = Record<string, unknown>>(
    route: string,
    init?: RequestInit & { operator?: string },
  ): Promise<{ status: number; body: T }>;
}

export async function startOpsLab(
  env: NodeJS.ProcessEnv = {},
  options: { tls?: boolean } = {},
): Promise<OpsLab> {
  const lab = await makeLab();
  // [management] tls = yes: the deployed listener's HTTPS, here on loopback (api.crt in state_dir).
  if (options.tls) setIni(lab.twIni, 'management', 'tls', 'yes');
  const forwarder = new TcpForwarder(lab.sim.port);
  await forwarder.start();
  setIni(lab.twIni, 'servers', 'server2_name', '福田');
  setIni(lab.twIni, 'servers', 'server2', `127.0.0.1:${forwarder.port}`);
  const sim = startSim(lab);
  const admin = await simReady(lab);
  const gateway = startGateway(lab, env);
  await gateway.waitFor(/小站端与服务器连接成功/);
  const url = options.tls ? lab.management.url.replace(/^http:/, 'https:') : lab.management.url;
  const token = readFileSync(lab.management.tokenFile, 'utf8').trim();
  const certFile = path.join(lab.stateDir, 'api.crt');
  // The gateway makes the certificate as its API starts; it is there before the port answers.
  const ca = options.tls
    ? await waitUntil(() => existsSync(certFile) && readFileSync(certFile, 'utf8'), 'api.crt')
    : null;
  const send = async (route: string, init: RequestInit): Promise<{ status: number; text: string }> => {
    if (ca === null) {
      const res = await fetch(`${url}${route}`, init);
      return { status: res.status, text: await res.text() };
    }
    return pinnedRequest(`${url}${route}`, ca, {
      method: init.method ?? 'GET',
      headers: init.headers as Record<string, string>,
      ...(typeof init.body === 'string' ? { body: init.body } : {}),
    });
  };
  await waitUntil(async () => (await send('/healthz', {})).status === 200, 'ops API up');
  // NQ302 comes when the TCP/TLS link is up, before the main station answers the logon: the
  // tests start from a link that is 正常 (readyz 200), not from a moment before it.
  await waitUntil(async () => (await send('/readyz', {})).status === 200, 'gateway ready (link 正常)');
  const api = async <T>(route: string, init: RequestInit & { operator?: string } = {}) => {
    const { operator, ...rest } = init;
    const res = await send(route, {
      ...rest,
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        ...(operator ? { 'x-nqgw-operator': operator } : {}),
        ...(rest.headers as Record<string, string> | undefined),
      },
    });
    const { text } = res;
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
  return { lab, admin, gateway, sim, forwarder, url, token, ca, api, stop };
}
