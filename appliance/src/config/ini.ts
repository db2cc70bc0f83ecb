/**
 * A small INI reader that remembers where each key came from, so every configuration error can
 * name the file and the line (operators fix tw.ini in vi over SSH; "line 14" beats "invalid").
 * Sections are `[name]`; entries are `key = value`; `;` and `#` start a comment line, and an
 * inline comment needs whitespace before it (`key = value ; note`), so a value can hold `#`.
 */
export interface IniEntry {
  section: string;
  key: string;
  value: string;
  line: number;
}

export interface IniSection {
  name: string;
  line: number;
  entries: Map<string, IniEntry>;
}

export interface IniDocument {
  file: string;
  sections: Map<string, IniSection>;
  /** Lines that are neither a section, an entry, a comment nor blank. */
  malformed: { line: number; text: string }[];
  /** Keys given twice in one section (the later one wins; the earlier is reported). */
  duplicates: IniEntry[];
}

export function parseIni(text: string, file: string): IniDocument {
  const doc: IniDocument = { file, sections: new Map(), malformed: [], duplicates: [] };
  let current: IniSection = { name: '', line: 0, entries: new Map() };
  doc.sections.set('', current);
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = index + 1;
    const text = raw.trim();
    if (text === '' || text.startsWith(';') || text.startsWith('#')) return;
    const section = /^\[([^\]]+)\]$/.exec(text);
    if (section) {
      const name = section[1]!.trim().toLowerCase();
      const existing = doc.sections.get(name);
      current = existing ?? { name, line, entries: new Map() };
      if (!existing) doc.sections.set(name, current);
      return;
    }
    const eq = text.indexOf('=');
    if (eq <= 0) {
      doc.malformed.push({ line, text: raw });
      return;
    }
    const key = text.slice(0, eq).trim().toLowerCase();
    const value = text
      .slice(eq + 1)
      .replace(/\s[;#].*$/, '')
      .trim();
    const entry: IniEntry = { section: current.name, key, value, line };
    const previous = current.entries.get(key);
    if (previous) doc.duplicates.push(previous);
    current.entries.set(key, entry);
  });
  return doc;
}
