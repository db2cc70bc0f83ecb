/**
 * Text bound for the operator log comes from everywhere: operator names, the main station's
 * notices and refusals, file paths, error messages. A newline in it would forge a log line (the
 * file is "HH:MM:SS [CODE] text", one line each), an escape sequence would repaint the terminal
 * of whoever runs `tail`, and a megabyte of it would fill the disk and the ring. So every line
 * is made one printable line of bounded size before anything keeps or prints it.
 */

/** The most a line's text may take in UTF-8 bytes; longer text is cut and marked as cut. */
export const LINE_MAX_BYTES = 2048;

/**
 * C0 controls (NUL..US, which include TAB, LF, CR and ESC), DEL, the C1 controls and the two
 * Unicode line separators: none of them is kept; each becomes one space.
 */
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/** A code is short and plain ("NQ240"); anything else is cleaned like text and kept short. */
const PLAIN_CODE = /^[A-Za-z0-9_-]{1,16}$/;

function utf8Length(codePoint: number): number {
  return codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4;
}

/** The longest prefix of `text` that fits in `maxBytes` of UTF-8, never splitting a character. */
function prefixWithin(text: string, maxBytes: number): string {
  let bytes = 0;
  let end = 0;
  for (const ch of text) {
    const n = utf8Length(ch.codePointAt(0)!);
    if (bytes + n > maxBytes) break;
    bytes += n;
    end += ch.length;
  }
  return text.slice(0, end);
}

/**
 * One printable line of at most `maxBytes` (plus the cut mark): control characters replaced by
 * spaces, and text past the limit cut with a mark that says how long it was.
 */
export function cleanLogText(text: string, maxBytes = LINE_MAX_BYTES): string {
  // Every character is at least one byte: looking past maxBytes characters is never needed,
  // so a 1 MiB line costs no more than a 2 KiB one.
  const head = text.length > maxBytes ? text.slice(0, maxBytes + 1) : text;
  const total = Buffer.byteLength(text, 'utf8');
  const clean = head.replace(UNPRINTABLE, ' ');
  if (total <= maxBytes) return clean;
  return `${prefixWithin(clean, maxBytes)}…[已截断, 原长 ${total} 字节]`;
}

/** The code of a line, made safe the same way (codes are ours, but a caller may pass anything). */
export function cleanLogCode(code: string | undefined): string | undefined {
  if (code === undefined || code === '') return undefined;
  return PLAIN_CODE.test(code) ? code : cleanLogText(code, 32);
}
