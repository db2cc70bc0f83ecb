/**
 * Terminal columns of text, for the status screen's aligned columns over SSH: a CJK character
 * (汉字, full-width forms, CJK punctuation) takes two columns, so `String.padEnd`, which counts
 * UTF-16 units, would push every column after 小站号 or 交易单元 out of line.
 */

/** True for the East Asian Wide and Fullwidth ranges a terminal draws two columns wide. */
function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) || // Hangul Jamo
    (cp >= 0x2e80 && cp <= 0x303e) || // CJK radicals, punctuation (、。「」)
    (cp >= 0x3041 && cp <= 0x33ff) || // kana, CJK symbols
    (cp >= 0x3400 && cp <= 0x4dbf) || // CJK extension A
    (cp >= 0x4e00 && cp <= 0x9fff) || // CJK unified ideographs
    (cp >= 0xa960 && cp <= 0xa97f) ||
    (cp >= 0xac00 && cp <= 0xd7a3) || // Hangul syllables
    (cp >= 0xf900 && cp <= 0xfaff) || // CJK compatibility ideographs
    (cp >= 0xfe30 && cp <= 0xfe4f) || // CJK compatibility forms
    (cp >= 0xff00 && cp <= 0xff60) || // full-width forms (：，！)
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) || // emoji
    (cp >= 0x20000 && cp <= 0x3fffd) // CJK extensions B and later
  );
}

/** Columns the text takes on a terminal (combining marks and zero-width characters: none). */
export function displayWidth(text: string): number {
  let w = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0)!;
    if ((cp >= 0x300 && cp <= 0x36f) || cp === 0x200b || cp === 0x200d || cp === 0xfe0f) continue;
    w += isWide(cp) ? 2 : 1;
  }
  return w;
}

/** `text` padded with spaces to `columns` terminal columns (at least one space after it). */
export function padColumns(text: string, columns: number): string {
  const w = displayWidth(text);
  return text + ' '.repeat(Math.max(1, columns - w));
}
