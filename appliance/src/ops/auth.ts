import { randomBytes } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { tokenMatches } from './token.js';

/** The page's cookie: a session id the server made, never the token itself. */
export const SESSION_COOKIE = 'nqgw_session';

/** A page session lasts a duty shift; then the operator opens /?token= again. */
export const SESSION_TTL_MS = 12 * 3600_000;

/** At most this many live sessions: a flood of logins cannot grow the map without bound. */
const MAX_SESSIONS = 256;

/**
 * The page's sessions, in memory only: a restart of the gateway ends them all (the operator opens
 * /?token= once more). The id is 32 random bytes: it stands for the token in the browser, so that
 * a cookie that leaks (a proxy log, a copied profile) does not give away the token, and expires.
 */
export class Sessions {
  private readonly live = new Map<string, number>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly ttlMs = SESSION_TTL_MS,
  ) {}

  create(): string {
    this.prune();
    if (this.live.size >= MAX_SESSIONS) this.live.delete(this.live.keys().next().value!);
    const id = randomBytes(32).toString('base64url');
    this.live.set(id, this.now() + this.ttlMs);
    return id;
  }

  valid(id: string | undefined): boolean {
    if (id === undefined) return false;
    const expires = this.live.get(id);
    if (expires === undefined) return false;
    if (expires > this.now()) return true;
    this.live.delete(id);
    return false;
  }

  private prune(): void {
    const t = this.now();
    for (const [id, expires] of this.live) if (expires <= t) this.live.delete(id);
  }
}

/**
 * `GET /?token=T` once: a right token becomes a session cookie (HttpOnly, SameSite=Strict, Secure
 * over TLS) and the browser is sent to the bare URL, so the token leaves the address bar and the
 * history and is never stored in the browser.
 */
export function pageLogin(token: string, sessions: Sessions, secure: boolean): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    const t = req.query['token'];
    if (typeof t !== 'string') return next();
    res.set('cache-control', 'no-store').set('referrer-policy', 'no-referrer');
    if (!tokenMatches(token, t)) return void res.status(401).type('text').send('wrong token\n');
    res.cookie(SESSION_COOKIE, sessions.create(), {
      httpOnly: true,
      sameSite: 'strict',
      secure,
      path: '/',
      maxAge: SESSION_TTL_MS,
    });
    res.redirect(303, '/');
  };
}

/** How a request proved itself: the bearer token (scripts, nqgw) or the page's session cookie. */
export type AuthKind = 'bearer' | 'session';

/** Everything behind this needs `Authorization: Bearer T` or a live session cookie. */
export function authorize(token: string, sessions: Sessions): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    const header = req.get('authorization');
    const bearer = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    if (tokenMatches(token, bearer)) {
      res.locals['auth'] = 'bearer' satisfies AuthKind;
      return next();
    }
    if (sessions.valid(cookieOf(req, SESSION_COOKIE))) {
      res.locals['auth'] = 'session' satisfies AuthKind;
      return next();
    }
    res.set('www-authenticate', 'Bearer realm="nqgw"');
    if (req.path === '/') {
      res
        .status(401)
        .type('text')
        .send('401: open /?token=TOKEN once (the token is in [management] token_file), see docs/ops.md\n');
    } else res.status(401).json({ error: 'missing or wrong bearer token' });
  };
}

/**
 * The levers (every request that changes state) accept only what a page of this origin or the
 * nqgw command sends: a JSON body, and no foreign Origin. A form on another site (or on another
 * port of this host, which SameSite does not separate) can post only urlencoded, multipart or
 * text/plain bodies without a CORS preflight, and this API answers no preflight; a page's own
 * cookie without an Origin at all is refused too (browsers send one on every POST).
 */
export function leverGuard(onRefused: (req: Request, why: string) => void): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.method === 'GET' || req.method === 'HEAD') return next();
    const why = leverRefusal(req, res.locals['auth'] as AuthKind | undefined);
    if (why === null) return next();
    onRefused(req, why.text);
    res.status(why.status).json({ ok: false, error: why.text });
  };
}

function leverRefusal(req: Request, auth: AuthKind | undefined): { status: number; text: string } | null {
  if (!req.is('application/json')) {
    return {
      status: 415,
      text: `control calls take a JSON body (Content-Type: application/json), not ${req.get('content-type') ?? 'none'}: form posts are refused`,
    };
  }
  const origin = req.get('origin');
  const own = `${req.protocol}://${req.get('host') ?? ''}`;
  if (origin !== undefined && origin !== own) {
    return {
      status: 403,
      text: `cross-origin control call refused: Origin ${origin.slice(0, 100)} is not ${own}`,
    };
  }
  const site = req.get('sec-fetch-site');
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    return { status: 403, text: `cross-origin control call refused (Sec-Fetch-Site: ${site.slice(0, 20)})` };
  }
  if (auth === 'session' && origin === undefined) {
    return { status: 403, text: 'control call with the page session but no Origin refused' };
  }
  return null;
}

function cookieOf(req: Request, name: string): string | undefined {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k !== name) continue;
    try {
      return decodeURIComponent(v.join('='));
    } catch {
      return undefined;
    }
  }
  return undefined;
}
