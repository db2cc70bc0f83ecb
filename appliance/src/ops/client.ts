import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import type { TwConfig } from '../config/index.js';
import { AppError } from '../shared/index.js';

/** The API could not be reached or answered with an error. `status` 0: not reachable. */
export class OpsApiError extends AppError {
  constructor(
    readonly status: number,
    message: string,
    hint?: string,
  ) {
    super(status === 0 ? 'NQ964' : 'NQ965', message, hint);
  }
}

/**
 * Who the operator is: --operator if given, else the SSH session's user (the bastion logs in
 * as the person), else the sudo caller, else the login name. With SSH_CONNECTION the source
 * address is appended, so the audit log says who and from where.
 */
export function operatorName(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit) return explicit;
  const user = env['SUDO_USER'] || env['LOGNAME'] || env['USER'] || safeUser();
  const ssh = env['SSH_CONNECTION']?.split(' ')[0];
  return ssh ? `${user}@${ssh}` : user;
}

function safeUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'unknown';
  }
}

/** A small client of the ops API for the `nqgw` commands, using the token file of tw.ini. */
export class OpsClient {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
    private readonly operator = 'unknown',
    /** The checker (复核人) for two-person duty; sent only when named. */
    private readonly checker?: string,
    /**
     * The API's own certificate (PEM) when it serves HTTPS: the only one trusted for this call.
     * It is read from [management] tls_cert on this host, so the name check adds nothing to the
     * pin and is skipped (the listen address may be 0.0.0.0, reached here as 127.0.0.1).
     */
    private readonly pinnedCert?: string,
  ) {}

  static fromConfig(config: TwConfig, operator?: string, checker?: string): OpsClient {
    const { host, port, tokenFile } = config.management;
    let token: string;
    try {
      token = readFileSync(tokenFile, 'utf8').trim();
    } catch (err) {
      throw new OpsApiError(
        401,
        `cannot read the API token file ${tokenFile}: ${(err as NodeJS.ErrnoException).code}`,
        'Run as the gateway user (sudo -u nqgw) or check [management] token_file.',
      );
    }
    const h = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
    const tls = config.management.tls;
    if (!tls) return new OpsClient(`http://${h}:${port}`, token, operator, checker);
    let cert: string;
    try {
      cert = readFileSync(tls.cert, 'utf8');
    } catch (err) {
      throw new OpsApiError(
        0,
        `cannot read the API certificate ${tls.cert}: ${(err as NodeJS.ErrnoException).code}`,
        'The API makes it at its first start: is `nqgw run` running? (systemctl status nqgw)',
      );
    }
    return new OpsClient(`https://${h}:${port}`, token, operator, checker, cert);
  }

  async get<T>(route: string): Promise<T> {
    return this.call<T>('GET', route);
  }

  async post<T>(route: string, body: unknown = {}): Promise<T> {
    return this.call<T>('POST', route, body);
  }

  private async call<T>(method: string, route: string, body?: unknown): Promise<T> {
    let res: { status: number; ok: boolean; text: string };
    try {
      res = await this.send(
        method,
        route,
        {
          authorization: `Bearer ${this.token}`,
          'x-nqgw-operator': encodeURIComponent(this.operator),
          // The checker travels exactly like the operator: header and body.
          ...(this.checker ? { 'x-nqgw-checker': encodeURIComponent(this.checker) } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body === undefined
          ? undefined
          : JSON.stringify({
              operator: this.operator,
              ...(this.checker ? { checker: this.checker } : {}),
              ...(body as object),
            }),
      );
    } catch (err) {
      throw new OpsApiError(
        0,
        `gateway API not reachable at ${this.baseUrl}: ${(err as Error).message}`,
        'Is `nqgw run` running? (systemctl status nqgw)',
      );
    }
    const { text } = res;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = { error: text };
    }
    if (!res.ok && !(res.status === 503 && route === '/readyz')) {
      const msg =
        (json as { error?: string; detail?: string }).detail ?? (json as { error?: string }).error ?? text;
      // A two-person refusal says what to do next, not only what went wrong.
      const hint = (json as { checkerRequired?: boolean }).checkerRequired
        ? 'tw.ini [management] require_checker = yes: a second person checks the action and is named with --checker NAME (not the operator).'
        : undefined;
      throw new OpsApiError(res.status, `API ${method} ${route}: ${res.status} ${msg}`, hint);
    }
    return json as T;
  }

  /** One request with node:http(s): fetch cannot be given a certificate to trust. 5 s in all. */
  private send(
    method: string,
    route: string,
    headers: Record<string, string>,
    body: string | undefined,
  ): Promise<{ status: number; ok: boolean; text: string }> {
    const url = new URL(`${this.baseUrl}${route}`);
    const tls = url.protocol === 'https:';
    const options: https.RequestOptions = {
      method,
      headers: { ...headers, ...(body === undefined ? {} : { 'content-length': Buffer.byteLength(body) }) },
      timeout: 5000,
      ...(tls ? { ca: this.pinnedCert, checkServerIdentity: () => undefined } : {}),
    };
    return new Promise((resolve, reject) => {
      const req = (tls ? https : http).request(url, options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          resolve({
            status,
            ok: status >= 200 && status < 300,
            text: Buffer.concat(chunks).toString('utf8'),
          });
        });
      });
      req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
      req.on('error', reject);
      req.end(body);
    });
  }
}
