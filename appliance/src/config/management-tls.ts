import { join } from 'node:path';
import type { SectionReader } from './reader.js';

/** The management listener's TLS (docs/ops.md "The API as deployed"): certificate and key files. */
export interface ManagementTls {
  cert: string;
  key: string;
}

/** 127.0.0.0/8, ::1 and localhost: addresses from which nothing leaves the host. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * `[management] tls`, `tls_cert`, `tls_key`. TLS is on by default for every listen address but
 * loopback: the bearer token and the page's session must not cross the management network in
 * clear. `tls = no` on such an address is a problem, not a choice (a /8 management CIDR is a lot
 * of hosts that could read the token). On loopback, plain HTTP is the default and `tls = yes`
 * turns it on (the tests run the real TLS listener that way). The files default to api.crt and
 * api.key in the state directory, which the API may write (nqgw.service has ProtectSystem=strict:
 * /etc is read-only to it) and which is the replica's persistent volume, so the certificate the
 * operators pinned survives a rebuild; the API makes them (self-signed, key 0600) at its first
 * start.
 */
export function readManagementTls(
  s: SectionReader,
  host: string,
  stateDir: string | undefined,
): ManagementTls | undefined {
  const loopback = isLoopbackHost(host);
  const on = s.bool('tls', !loopback);
  if (!on && !loopback) {
    s.problem(
      'tls',
      `tls = no on ${host}, an address other hosts reach: the API token would cross the network in clear`,
      'delete the line (TLS with the appliance certificate is the default), or listen on 127.0.0.1',
    );
  }
  if (!on) return undefined;
  const hint = 'give a path in a directory that exists (the API creates the file at its first start)';
  const inState = (name: string): string => (stateDir ? join(stateDir, name) : name);
  const cert = s.path('tls_cert', 'directory-of', hint, inState('api.crt'), stateDir) ?? '';
  const key = s.path('tls_key', 'directory-of', hint, inState('api.key'), stateDir) ?? '';
  return { cert, key };
}
