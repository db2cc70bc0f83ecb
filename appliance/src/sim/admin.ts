/**
 * The simulator's admin HTTP API (node:http, loopback only): what tests and drills use to look at
 * the main station and to break things. JSON in and out; errors are {error} with 400 or 404.
 *
 *   GET  /stations/:id[?date=YYYYMMDD]          counters of the station (default: today CST)
 *   GET  /stations/:id/orders[?date=]           taken orders [{JYDY, LSH, possDup, recNo}]
 *   GET  /stations/:id/returns[?date=]          returns made, in HBXH order
 *   POST /faults/drop     {station}             destroy the station's connection
 *   POST /faults/silence  {station, ms}         send nothing and read nothing for ms
 *   POST /faults/notice   {station, text}       send a Notice (特别提示)
 *   POST /faults/quit     {station, reason?}    send a Quit and close
 *   POST /securities/:code/suspend | /resume    suspend or resume a security (E002 while suspended)
 *   POST /market          {state}               set the market state and tell every live session
 *   POST /soft/:station   {date?}               enable a soft-encryption (软加密) logon for one day
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';

export interface StationReport {
  connected: boolean;
  ordersTaken: number;
  duplicatesDropped: number;
  rejected: number;
  returns: number;
  lastAcked: number;
  lastLogon: { lastReturnSeq: number; auth: string } | null;
}

export type FaultKind = 'drop' | 'silence' | 'notice' | 'quit';

/** What the admin API needs of the simulator. */
export interface AdminTarget {
  today(): string;
  hasStation(id: string): boolean;
  report(id: string, date: string): StationReport;
  orders(id: string, date: string): { JYDY: string; LSH: string; possDup: boolean; recNo: number }[];
  returns(id: string, date: string): unknown[];
  /** False when the station has no live session. */
  fault(kind: FaultKind, station: string, args: { ms?: number; text?: string }): boolean;
  suspend(code: string, on: boolean): Promise<void>;
  setMarket(state: string): Promise<void>;
  enableSoft(station: string, date: string): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const MAX_BODY = 64 * 1024;

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new HttpError(400, 'body too large');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new HttpError(400, 'body is not JSON');
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body))
    throw new HttpError(400, 'body must be a JSON object');
  return body as Record<string, unknown>;
}

function text(body: Record<string, unknown>, key: string, optional = false): string | undefined {
  const v = body[key];
  if (v === undefined && optional) return undefined;
  if (typeof v !== 'string' || v === '') throw new HttpError(400, `'${key}' must be a non-empty string`);
  return v;
}

function dateParam(value: string | null | undefined, target: AdminTarget): string {
  if (value === null || value === undefined) return target.today();
  if (!/^\d{8}$/.test(value)) throw new HttpError(400, 'date must be YYYYMMDD');
  return value;
}

async function route(target: AdminTarget, req: IncomingMessage): Promise<unknown> {
  const url = new URL(req.url ?? '/', 'http://admin');
  const parts = url.pathname
    .split('/')
    .filter((p) => p !== '')
    .map(decodeURIComponent);
  const method = req.method ?? 'GET';
  const station = (id: string): string => {
    if (!target.hasStation(id)) throw new HttpError(404, `unknown station ${id}`);
    return id;
  };

  if (method === 'GET' && parts[0] === 'stations' && parts[1] !== undefined) {
    const id = station(parts[1]);
    const date = dateParam(url.searchParams.get('date'), target);
    if (parts.length === 2) return target.report(id, date);
    if (parts.length === 3 && parts[2] === 'orders') return target.orders(id, date);
    if (parts.length === 3 && parts[2] === 'returns') return target.returns(id, date);
  }
  if (method !== 'POST') throw new HttpError(404, `no route ${method} ${url.pathname}`);
  const body = await readJson(req);

  if (parts[0] === 'faults' && parts.length === 2) {
    const kind = parts[1] as FaultKind;
    if (!['drop', 'silence', 'notice', 'quit'].includes(kind))
      throw new HttpError(404, `unknown fault ${kind}`);
    const id = station(text(body, 'station')!);
    const args: { ms?: number; text?: string } = {};
    if (kind === 'silence') {
      if (!Number.isInteger(body.ms) || (body.ms as number) <= 0)
        throw new HttpError(400, "'ms' must be a positive integer");
      args.ms = body.ms as number;
    }
    if (kind === 'notice') args.text = text(body, 'text');
    if (kind === 'quit') args.text = text(body, 'reason', true) ?? 'quit by the main station';
    if (!target.fault(kind, id, args)) throw new HttpError(404, `station ${id} has no live session`);
    return { ok: true };
  }
  if (parts[0] === 'securities' && parts.length === 3 && (parts[2] === 'suspend' || parts[2] === 'resume')) {
    const code = parts[1]!;
    if (!/^\d{6}$/.test(code)) throw new HttpError(400, 'security code must be six digits');
    await target.suspend(code, parts[2] === 'suspend');
    return { ok: true, code, suspended: parts[2] === 'suspend' };
  }
  if (parts[0] === 'market' && parts.length === 1) {
    const state = text(body, 'state')!;
    await target.setMarket(state);
    return { ok: true, state };
  }
  if (parts[0] === 'soft' && parts.length === 2) {
    const id = station(parts[1]!);
    const date = dateParam(text(body, 'date', true), target);
    await target.enableSoft(id, date);
    return { ok: true, station: id, date };
  }
  throw new HttpError(404, `no route ${method} ${url.pathname}`);
}

function reply(res: ServerResponse, status: number, payload: unknown): void {
  const data = JSON.stringify(payload);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(data),
  });
  res.end(data);
}

export function createAdminServer(target: AdminTarget): Server {
  return createServer((req, res) => {
    route(target, req).then(
      (payload) => reply(res, 200, payload),
      (err: unknown) => {
        if (err instanceof HttpError) reply(res, err.status, { error: err.message });
        else reply(res, 500, { error: (err as Error).message });
      },
    );
  });
}
