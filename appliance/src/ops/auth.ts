import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { tokenMatches } from './token.js';

export const TOKEN_COOKIE = 'nqgw_token';

/**
 * `GET /?token=T` once: a right token becomes an HttpOnly, SameSite=Strict cookie and the browser
 * is sent to the bare URL, so the token leaves the address bar and the history.
 */
export function pageLogin(token: string): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    const t = req.query['token'];
    if (typeof t !== 'string') return next();
    if (!tokenMatches(token, t)) return void res.status(401).type('text').send('wrong token\n');
    res.cookie(TOKEN_COOKIE, t, { httpOnly: true, sameSite: 'strict', path: '/' });
    res.redirect(303, '/');
  };
}

/** Everything behind this needs `Authorization: Bearer T` or the page's cookie. */
export function authorize(token: string): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    const header = req.get('authorization');
    const bearer = header?.startsWith('Bearer ') ? header.slice(7).trim() : undefined;
    if (tokenMatches(token, bearer) || tokenMatches(token, cookieOf(req, TOKEN_COOKIE))) return next();
    res.set('www-authenticate', 'Bearer realm="nqgw"');
    if (req.path === '/') {
      res
        .status(401)
        .type('text')
        .send('401: open /?token=TOKEN once (the token is in [management] token_file), see docs/ops.md\n');
    } else res.status(401).json({ error: 'missing or wrong bearer token' });
  };
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
