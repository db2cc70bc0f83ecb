/** A time server to query. */
export interface TimeServer {
  host: string;
  port: number;
}

export const NTP_PORT = 123;

/** "host:port", with IPv6 literals in brackets: the label every report and error uses. */
export function formatServer(server: TimeServer): string {
  const host = server.host.includes(':') ? `[${server.host}]` : server.host;
  return `${host}:${server.port}`;
}

/**
 * Parse one "host", "host:port", "[v6]" or "[v6]:port". Returns an error text instead of
 * throwing, so that the caller can name the key or option it came from.
 */
export function parseServer(text: string): TimeServer | string {
  const s = text.trim();
  if (s === '') return 'empty server address';
  let host: string;
  let portText: string | undefined;
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0) return `'${s}': missing ']' after an IPv6 address`;
    host = s.slice(1, end);
    const rest = s.slice(end + 1);
    if (rest !== '') {
      if (!rest.startsWith(':')) return `'${s}': expected ':port' after ']'`;
      portText = rest.slice(1);
    }
  } else {
    const colons = s.split(':').length - 1;
    if (colons > 1) {
      host = s; // a bare IPv6 address, default port
    } else if (colons === 1) {
      const at = s.indexOf(':');
      host = s.slice(0, at);
      portText = s.slice(at + 1);
    } else {
      host = s;
    }
  }
  if (host === '' || /\s/.test(host)) return `'${s}': bad host name`;
  let port = NTP_PORT;
  if (portText !== undefined) {
    if (!/^\d{1,5}$/.test(portText)) return `'${s}': port must be a number from 1 to 65535`;
    port = Number(portText);
    if (port < 1 || port > 65535) return `'${s}': port must be a number from 1 to 65535`;
  }
  return { host, port };
}
