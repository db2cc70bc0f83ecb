/**
 * Pure checks of single tw.ini values. Each returns either the parsed value or the reason it is
 * wrong (English, quoting the value); the caller adds file, line and hint.
 */

export type Check<T> = { ok: true; value: T } | { ok: false; reason: string };

const ok = <T>(value: T): Check<T> => ({ ok: true, value });
const bad = <T>(reason: string): Check<T> => ({ ok: false, reason });

/** 小站号: one capital letter, six digits, one capital letter (W888888T in the vendor's guide). */
export const STATION_ID_RE = /^[A-Z]\d{6}[A-Z]$/;

/** 交易单元: exactly six digits (729900). */
export const TRADING_UNIT_RE = /^\d{6}$/;

/** HH:MM, 24-hour, China Standard Time. */
export const HHMM_RE = /^([01]\d|2[0-3]):([0-5]\d)$/;

const HOST_LABEL_RE = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/** Dotted-quad IPv4 without leading zeros (leading zeros are octal to some resolvers). */
export function isIPv4(text: string): boolean {
  const parts = text.split('.');
  if (parts.length !== 4) return false;
  return parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255);
}

/** An IPv4 address or an RFC 1123 host name. Anything made only of digits and dots must be IPv4. */
export function checkHost(host: string): Check<string> {
  if (host === '') return bad('the host is empty');
  if (/^[\d.]+$/.test(host)) {
    return isIPv4(host) ? ok(host) : bad(`"${host}" is not a valid IPv4 address`);
  }
  const name = host.endsWith('.') ? host.slice(0, -1) : host;
  if (name.length > 253) return bad(`host name "${host}" is longer than 253 characters`);
  const labels = name.split('.');
  if (!labels.every((l) => HOST_LABEL_RE.test(l))) {
    return bad(`"${host}" is neither an IPv4 address nor a valid host name`);
  }
  if (/^\d+$/.test(labels[labels.length - 1] ?? '')) {
    return bad(`"${host}" is neither an IPv4 address nor a valid host name`);
  }
  return ok(host);
}

export function checkPort(text: string): Check<number> {
  if (!/^\d{1,5}$/.test(text)) return bad(`port "${text}" is not a number`);
  const port = Number(text);
  if (port < 1 || port > 65535) return bad(`port ${port} is outside 1-65535`);
  return ok(port);
}

/** `host:port` (IPv4 or host name; IPv6 is not used on the main-station links). */
export function checkHostPort(text: string): Check<{ host: string; port: number }> {
  const colon = text.lastIndexOf(':');
  if (colon < 0) return bad(`"${text}" has no port; expected host:port`);
  const host = checkHost(text.slice(0, colon));
  if (!host.ok) return bad(`"${text}": ${host.reason}`);
  const port = checkPort(text.slice(colon + 1));
  if (!port.ok) return bad(`"${text}": ${port.reason}`);
  return ok({ host: host.value, port: port.value });
}

/** `true`/`false` and the usual spellings an operator may type. */
export function checkBool(text: string): Check<boolean> {
  const t = text.toLowerCase();
  if (['true', 'yes', 'on', '1'].includes(t)) return ok(true);
  if (['false', 'no', 'off', '0'].includes(t)) return ok(false);
  return bad(`"${text}" is not true or false`);
}

export function checkInt(text: string, min: number, max: number): Check<number> {
  if (!/^-?\d+$/.test(text)) return bad(`"${text}" is not a whole number`);
  const n = Number(text);
  if (n < min || n > max) return bad(`${n} is outside ${min}-${max}`);
  return ok(n);
}

/** HH:MM → minutes after midnight. */
export function checkHhmm(text: string): Check<number> {
  const m = HHMM_RE.exec(text);
  if (!m) return bad(`"${text}" is not a time written HH:MM (00:00-23:59)`);
  return ok(Number(m[1]) * 60 + Number(m[2]));
}

/** Edit distance (insertions, deletions, substitutions, adjacent transpositions). */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row: number[] = [];
    for (let j = 0; j <= b.length; j++) {
      if (i === 0 || j === 0) {
        row.push(i + j);
        continue;
      }
      const prev = rows[i - 1]!;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      }
      row.push(d);
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}

/**
 * The closest candidate to a misspelt name, if it is close enough to be a typo: at most two
 * edits, and fewer than half the letters of the shorter word; or one name a prefix of the other.
 */
export function didYouMean(word: string, candidates: Iterable<string>): string | null {
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word, c);
    const limit = Math.min(2, Math.floor(Math.min(word.length, c.length) / 2));
    const prefix = word.length >= 3 && (c.startsWith(word) || word.startsWith(c)) ? 1 : Infinity;
    const score = d <= limit ? d : prefix === 1 ? Math.min(d, 3) : Infinity;
    if (score < bestDistance) {
      bestDistance = score;
      best = c;
    }
  }
  return best;
}
