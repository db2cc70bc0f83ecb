import { readFileSync } from 'node:fs';
import iconv from 'iconv-lite';

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

/**
 * How tw.ini's bytes were read. Operators edit tw.ini on Windows too, where Notepad and the
 * vendor's own tools save Chinese (server names, comments) as GBK (code page 936): read as UTF-8
 * it would come out garbled (乱码) in every message that quotes it, so the bytes decide.
 */
export type IniEncoding = 'UTF-8' | 'UTF-8 with BOM' | 'GBK';

/** Codes of the encoding lines (NQ250-NQ259): read as GBK; refused as neither; refused as UTF-16. */
export const INI_ENCODING_CODES = { GBK_READ: 'NQ250', UNDECODABLE: 'NQ251', UTF16: 'NQ252' } as const;

/** Why the bytes cannot be read as text, located for a ConfigProblem. */
export interface IniDecodeProblem {
  code: string;
  line: number;
  message: string;
  hint: string;
}

export type IniDecoded = { text: string; encoding: IniEncoding } | { problem: IniDecodeProblem };

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function lineAt(bytes: Uint8Array, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < bytes.length; i++) if (bytes[i] === 0x0a) line++;
  return line;
}

/**
 * Valid UTF-8 (with or without BOM) is UTF-8; anything else is read as GBK if every byte decodes
 * as GBK; otherwise, and for UTF-16 or NUL bytes, a problem naming the line, never garbled text.
 * GBK text is almost never valid UTF-8 (its two-byte pairs rarely form UTF-8 sequences), so
 * "valid UTF-8 first" does not misread a GBK file with Chinese in it.
 */
export function decodeIniBytes(bytes: Uint8Array): IniDecoded {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const utf16 = (b[0] === 0xff && b[1] === 0xfe) || (b[0] === 0xfe && b[1] === 0xff);
  const nul = b.indexOf(0);
  if (utf16 || nul >= 0) {
    return {
      problem: {
        code: INI_ENCODING_CODES.UTF16,
        line: utf16 ? 1 : lineAt(b, nul),
        message: `[${INI_ENCODING_CODES.UTF16}] the file is UTF-16 ("Unicode" in Windows Notepad) or has NUL bytes, not text tw.ini can hold`,
        hint: 'save it again as UTF-8 (or ANSI/GBK); on the VM: iconv -f UTF-16 -t UTF-8 tw.ini > tw.ini.new',
      },
    };
  }
  const bom = b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf;
  try {
    const text = UTF8.decode(bom ? b.subarray(3) : b);
    return { text, encoding: bom ? 'UTF-8 with BOM' : 'UTF-8' };
  } catch {
    // Not UTF-8: try GBK below.
  }
  const text = iconv.decode(b, 'gbk');
  const bad = text.indexOf('\uFFFD');
  if (bad < 0) return { text, encoding: 'GBK' };
  const line = text.slice(0, bad).split('\n').length;
  return {
    problem: {
      code: INI_ENCODING_CODES.UNDECODABLE,
      line,
      message: `[${INI_ENCODING_CODES.UNDECODABLE}] the line is neither UTF-8 nor GBK text; refused rather than read garbled`,
      hint: 'save tw.ini as UTF-8 (or GBK), and retype the characters on this line',
    },
  };
}

/** Read tw.ini's bytes and decode them as decodeIniBytes says (fs errors are thrown as they are). */
export function readIniFile(path: string): IniDecoded {
  return decodeIniBytes(readFileSync(path));
}
