import type { Request, Response, Router } from 'express';
import type { AuditLog, AuditEntry } from './audit.js';
import { OPERATOR_HOLD, type OpsSource } from './source.js';

export interface ControlDeps {
  source: OpsSource;
  audit: AuditLog;
  /** Ends the process the way SIGTERM does; called after the answer has gone out. */
  onStop: () => void;
  /** Re-derive alerts and push a snapshot now, so the page and `nqgw alerts` see the effect. */
  refresh: () => void;
}

class Refused extends Error {}

function operatorOf(req: Request): string {
  const h = req.get('x-nqgw-operator');
  const b = (req.body as { operator?: unknown } | undefined)?.operator;
  let name = typeof b === 'string' && b !== '' ? b : (h ?? '');
  try {
    name = decodeURIComponent(name);
  } catch {
    // keep it as sent
  }
  return name.trim().slice(0, 64) || 'unknown';
}

/**
 * POST /api/control/{reconnect,switch,pause,resume,stop}. Each call is audited (operator,
 * source address, time, action, result) with an fsync before the answer; a refused call
 * (bad server number) is audited too.
 */
export function addControlRoutes(router: Router, deps: ControlDeps): void {
  const { source, audit } = deps;
  const act =
    (
      action: string,
      run: (req: Request) => { args?: Record<string, unknown>; detail: string },
      after?: () => void,
    ) =>
    (req: Request, res: Response): void => {
      const base = {
        time: new Date().toISOString(),
        operator: operatorOf(req),
        source: req.socket.remoteAddress ?? 'unknown',
        action,
      };
      let entry: AuditEntry;
      let status = 200;
      try {
        const out = run(req);
        entry = { ...base, ...(out.args ? { args: out.args } : {}), result: 'ok', detail: out.detail };
      } catch (err) {
        status = err instanceof Refused ? 400 : 500;
        entry = { ...base, result: status === 400 ? 'refused' : 'failed', detail: (err as Error).message };
      }
      try {
        audit.append(entry);
      } catch (err) {
        res.status(500).json({ ok: false, error: `audit log not written: ${(err as Error).message}` });
        return;
      }
      source.log.write(
        entry.result === 'ok' ? 'info' : 'warn',
        `操作员 ${entry.operator} (${entry.source}): ${action} ${entry.result}: ${entry.detail ?? ''}`,
        'NQ960',
      );
      deps.refresh();
      res.status(status).json({ ok: entry.result === 'ok', ...entry });
      if (entry.result === 'ok' && after) res.on('finish', after);
    };

  router.post(
    '/control/reconnect',
    act('reconnect', (req) => {
      source.reconnect(`operator ${operatorOf(req)}`);
      return { detail: '重新连接' };
    }),
  );
  router.post(
    '/control/switch',
    act('switch', (req) => {
      const n = Number((req.body as { server?: unknown } | undefined)?.server);
      const count = source.config.servers.length;
      if (!Number.isInteger(n) || n < 1 || n > count) {
        throw new Refused(`server must be 1..${count} (as numbered in tw.ini), got ${String(n)}`);
      }
      source.switchTo(n - 1);
      const s = source.config.servers[n - 1]!;
      return { args: { server: n }, detail: `切换到通信服务器 ${n}: ${s.name} ${s.host}:${s.port}` };
    }),
  );
  router.post(
    '/control/pause',
    act('pause', () => {
      source.hold(OPERATOR_HOLD, true);
      return { detail: '暂停发送 (orders wait in NQWT.DBF)' };
    }),
  );
  router.post(
    '/control/resume',
    act('resume', () => {
      source.hold(OPERATOR_HOLD, false);
      return { detail: '恢复发送' };
    }),
  );
  router.post(
    '/control/stop',
    act('stop', () => ({ detail: '网关正常停止 (graceful stop)' }), deps.onStop),
  );
}
