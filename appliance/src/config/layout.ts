import { didYouMean } from './checks.js';
import type { ReadContext } from './reader.js';
import {
  allSectionNames,
  isExtraSection,
  isKnownKey,
  isKnownSection,
  KNOWN_KEYS,
  sectionOfKey,
  suggestionsFor,
  type KnownSection,
} from './schema.js';

/** Malformed lines, duplicate keys, unknown sections and keys, keys outside any section. */
export function checkLayout(ctx: ReadContext, text: string): void {
  const headerLines = text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .map((raw, i) => ({ line: i + 1, m: /^\s*\[([^\]]+)\]\s*$/.exec(raw) }))
    .filter((x) => x.m !== null)
    .map((x) => ({ line: x.line, name: x.m![1]!.trim().toLowerCase() }));
  const sectionAt = (line: number): string => headerLines.filter((h) => h.line < line).pop()?.name ?? '';

  for (const bad of ctx.doc.malformed) {
    const shown = bad.text.trim();
    const looksLikeHeader = shown.startsWith('[') || shown.endsWith(']');
    ctx.add({
      line: bad.line,
      section: sectionAt(bad.line),
      key: null,
      message: `cannot read the line "${shown}"`,
      hint: looksLikeHeader
        ? 'write a section header as [name] on a line of its own'
        : 'write key = value, a [section] header, or start the line with ; to make it a comment',
    });
  }

  for (const dup of ctx.doc.duplicates) {
    const later = ctx.doc.sections.get(dup.section)?.entries.get(dup.key);
    ctx.add({
      line: dup.line,
      section: dup.section,
      key: dup.key,
      message: `given twice (again on line ${later?.line ?? '?'})`,
      hint: 'keep one of the two lines and delete the other',
    });
  }

  const sectionNames = allSectionNames();
  for (const section of ctx.doc.sections.values()) {
    if (section.name === '') {
      for (const entry of section.entries.values()) {
        const owner = sectionOfKey(entry.key);
        ctx.add({
          line: entry.line,
          section: '',
          key: entry.key,
          message: 'comes before any [section] header',
          hint: owner ? `move it under [${owner}]` : 'move it under the section it belongs to, or delete it',
        });
      }
      continue;
    }
    if (isExtraSection(section.name)) continue;
    if (!isKnownSection(section.name)) {
      const guess = didYouMean(section.name, sectionNames);
      ctx.add({
        line: section.line,
        section: section.name,
        key: null,
        message: guess ? `unknown section; did you mean [${guess}]?` : 'unknown section',
        hint: guess
          ? `rename the header to [${guess}]`
          : `use one of ${sectionNames.map((s) => `[${s}]`).join(' ')}, or delete the section`,
      });
      continue;
    }
    for (const entry of section.entries.values()) {
      if (!isKnownKey(section.name, entry.key)) unknownKey(ctx, section.name, entry.key, entry.line);
    }
  }
}

function unknownKey(ctx: ReadContext, section: KnownSection, key: string, line: number): void {
  const owner = sectionOfKey(key);
  if (owner) {
    ctx.add({
      line,
      section,
      key,
      message: `belongs in [${owner}], not [${section}]`,
      hint: `move the line under [${owner}]`,
    });
    return;
  }
  const guess = didYouMean(key, suggestionsFor(section));
  const known =
    section === 'servers' ? 'server1, server2, ... and server1_name, ...' : KNOWN_KEYS[section].join(', ');
  ctx.add({
    line,
    section,
    key,
    message: guess ? `unknown key; did you mean "${guess}"?` : 'unknown key',
    hint: guess
      ? `rename it to ${guess}, or delete the line`
      : `delete the line; [${section}] knows: ${known}`,
  });
}
