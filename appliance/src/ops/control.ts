import { isIP } from 'node:net';
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
  /** `[management] require_checker`: two-person duty (双人复核) for every control call. */
  requireChecker?: boolean;
}

/** The answer's words when two-person duty refuses a call (both languages: the bastion's
 * operators read Chinese, the scripts and runbooks grep English). */
export const TWO_PERSON_WORDS =
  '双人复核: 需要复核人 (checker), 且不能与操作员相同 / two-person rule: a checker other than the operator is required';

class Refused extends Error {}

/**
 * A person named by the caller: the JSON body's field wins over the header (URL-encoded, so a
 * Chinese name survives HTTP). The operator and the checker travel the same way, so `nqgw` and
 * scripts that already send one know how to send the other. '' when not given.
 */
function personOf(req: Request, field: 'operator' | 'checker'): string {
  const h = req.get(`x-nqgw-${field}`);
  const b = (req.body as Record<string, unknown> | undefined)?.[field];
  let name = typeof b === 'string' && b !== '' ? b : (h ?? '');
  try {
    name = decodeURIComponent(name);
  } catch {
    // keep it as sent
  }
  return name.trim().slice(0, 64);
}

function operatorOf(req: Request): string {
  return personOf(req, 'operator') || 'unknown';
}

/**
 * Who a name stands for, for the "not the operator" comparison: trimmed, case-folded, and without
 * the `@address` that `nqgw` appends from SSH_CONNECTION (operatorName in client.ts), so that
 * `alice@10.0.0.5` cannot name `Alice` as her own checker.
 */
export function personKey(name: string): string {
  let key = name.trim().toLowerCase();
  const at = key.lastIndexOf('@');
  if (at > 0 && isIP(key.slice(at + 1)) !== 0) key = key.slice(0, at);
  return key;
}

/** Why two-person duty refuses this call, or null when it may go ahead. */
function twoPersonProblem(operator: string | null, checker: string): string | null {
  if (operator === null) return 'no operator named';
  if (checker === '') return 'no checker named';
  if (personKey(checker) === personKey(operator)) return `checker ${checker} is the operator`;
  return null;
}

/**
 * POST /api/control/{reconnect,switch,pause,resume,stop}. Each call is audited (operator,
 * checker when named, source address, time, action, result) with an fsync before the answer; a
 * refused call (bad server number, two-person duty) is audited too, so the log shows attempts as
 * well as actions. Headers are never copied into the log: the bearer token stays out of it.
 */
export function addControlRoutes(router: Router, deps: ControlDeps): void {
  const { source, audit } = deps;
  const act =
    (
      action: string,
      run: (req: Request) => { args?: Record<string, unknown>; detail: string },
      after?: () => void,
      /** What the call asked for, recorded when two-person duty refuses it before run(). */
      asked?: (req: Request) => Record<string, unknown>,
    ) =>
    (req: Request, res: Response): void => {
      const checker = personOf(req, 'checker');
      const base = {
        time: new Date().toISOString(),
        operator: operatorOf(req),
        // Recorded whenever named, required or not: a voluntary second pair of eyes is evidence too.
        ...(checker ? { checker } : {}),
        source: req.socket.remoteAddress ?? 'unknown',
        action,
      };
      let entry: AuditEntry;
      let status = 200;
      const problem = deps.requireChecker
        ? twoPersonProblem(personOf(req, 'operator') || null, checker)
        : null;
      if (problem !== null) {
        // Checked before run(): a refused call must not touch the gateway at all.
        status = 403;
        const args = asked?.(req);
        entry = {
          ...base,
          ...(args ? { args } : {}),
          result: 'refused',
          detail: `${TWO_PERSON_WORDS} (${problem})`,
        };
      } else {
        try {
          const out = run(req);
          entry = { ...base, ...(out.args ? { args: out.args } : {}), result: 'ok', detail: out.detail };
        } catch (err) {
          status = err instanceof Refused ? 400 : 500;
          entry = { ...base, result: status === 400 ? 'refused' : 'failed', detail: (err as Error).message };
        }
      }
      try {
        audit.append(entry);
      } catch (err) {
        res.status(500).json({ ok: false, error: `audit log not written: ${(err as Error).message}` });
        return;
      }
      source.log.write(
        entry.result === 'ok' ? 'info' : 'warn',
        `操作员 ${entry.operator}${entry.checker ? ` 复核 ${entry.checker}` : ''} (${entry.source}): ${action} ${entry.result}: ${entry.detail ?? ''}`,
        'NQ960',
      );
      deps.refresh();
      // `checkerRequired` lets a client tell this 403 from other refusals without parsing words.
      res.status(status).json({
        ok: entry.result === 'ok',
        ...(status === 403 ? { error: TWO_PERSON_WORDS, checkerRequired: true } : {}),
        ...entry,
      });
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
    act(
      'switch',
      (req) => {
        const n = Number((req.body as { server?: unknown } | undefined)?.server);
        const count = source.config.servers.length;
        if (!Number.isInteger(n) || n < 1 || n > count) {
          throw new Refused(`server must be 1..${count} (as numbered in tw.ini), got ${String(n)}`);
        }
        source.switchTo(n - 1);
        const s = source.config.servers[n - 1]!;
        return { args: { server: n }, detail: `切换到通信服务器 ${n}: ${s.name} ${s.host}:${s.port}` };
      },
      undefined,
      // Only a number goes into the log: the body is the caller's, anything else is noise.
      (req) => {
        const n = Number((req.body as { server?: unknown } | undefined)?.server);
        return { server: Number.isFinite(n) ? n : null };
      },
    ),
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
