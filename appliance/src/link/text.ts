/**
 * Text that comes from the main station (notices, quit reasons, refusal words, market states) is
 * shown in the operator log, the status screen, alerts and webhooks. It is the peer's text, so it
 * is made safe once, where it enters (Inbound): control characters (C0, DEL, C1), the Unicode
 * line/paragraph separators and bidirectional overrides are replaced by a space (they could forge
 * log lines or reverse what an operator reads), and the length is capped.
 */

/** 特别提示 are short sentences; 500 characters is several times the longest seen. */
export const NOTICE_MAX_CHARS = 500;
/** Quit reasons, refusal words, market states, codes, dates. */
export const SHORT_TEXT_MAX_CHARS = 200;

const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]+/g;

/**
 * `text` with unsafe characters replaced by one space per run, trimmed, and cut to `max`
 * characters (code points, so a surrogate pair is never split) with a note of the original
 * length, e.g. `…(已截断, 原长 70000 字符)`.
 */
export function cleanPeerText(text: string, max: number): string {
  const clean = text.replace(UNSAFE, ' ').trim();
  if (clean.length <= max) return clean;
  const points = Array.from(clean);
  if (points.length <= max) return clean;
  return `${points.slice(0, max).join('')}…(已截断, 原长 ${points.length} 字符)`;
}

/**
 * 股市状态 as the screen says it. The modelled protocol carries a code (docs/protocol.md:
 * PRE_OPEN, OPEN, BREAK, CLOSED); the operator reads words. 未知 is the vendor screen's own word
 * before any state is known, and 闭市 the guide's word for the close ("每天闭市后定时关闭网关程序");
 * the others are the exchanges' usual words for the same phases. A state the table does not
 * know is shown beside 未知 rather than hidden; words the main station sends in Chinese pass as
 * they are.
 */
export const MARKET_WORDS: Readonly<Record<string, string>> = {
  PRE_OPEN: '开市前',
  OPEN: '开市',
  BREAK: '休市',
  CLOSED: '闭市',
};

export function marketWords(state: string | null | undefined): string {
  const s = (state ?? '').trim();
  if (s === '' || s === '未知') return '未知';
  const known = MARKET_WORDS[s.toUpperCase()];
  if (known) return known;
  return /^[ -~]+$/.test(s) ? `未知 (${s})` : s;
}
