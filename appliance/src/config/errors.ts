import { AppError } from '../shared/index.js';

/**
 * One thing wrong with a tw.ini, said so that an operator at a bastion prompt can fix it without
 * reading code: where (file, line, section, key), what (message, in English, quoting the value)
 * and what to do (hint).
 */
export interface ConfigProblem {
  /** The path of tw.ini as it was given to loadConfig (what the operator typed). */
  file: string;
  /** 1-based line, or null when the problem is something missing from the file. */
  line: number | null;
  /** Section name without brackets; '' for lines before the first section header. */
  section: string;
  key: string | null;
  message: string;
  hint: string;
}

/** Stable code of every configuration error (scripts and alerts key on it). */
export const CONFIG_ERROR_CODE = 'NQ601';

/**
 * tw.ini cannot be used. Carries every problem found, not just the first, so one round of
 * editing fixes the file.
 */
export class ConfigError extends AppError {
  readonly problems: ConfigProblem[];

  constructor(problems: ConfigProblem[], options?: { cause?: unknown }) {
    const file = problems[0]?.file ?? 'tw.ini';
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(
      CONFIG_ERROR_CODE,
      `${count} in ${file}:\n${formatConfigProblems(problems)}`,
      'correct the lines named above, then run: nqgw config check ' + file,
      options,
    );
    this.problems = problems;
  }
}

function formatOne(p: ConfigProblem): string {
  const where = p.line === null ? p.file : `${p.file}:${p.line}`;
  const section = p.section === '' ? '(before any section)' : `[${p.section}]`;
  const key = p.key === null ? '' : ` ${p.key}`;
  return `${where} ${section}${key}: ${p.message} — ${p.hint}`;
}

/**
 * Operator text, one line per problem, in file order (problems without a line last):
 * `tw.ini:14 [station] units: "72990" is not a six-digit trading unit — write units as ...`
 */
export function formatConfigProblems(err: ConfigError | readonly ConfigProblem[]): string {
  const problems = err instanceof ConfigError ? err.problems : err;
  return sortProblems(problems).map(formatOne).join('\n');
}

/** File order: by line, problems without a line after those with one; stable otherwise. */
export function sortProblems(problems: readonly ConfigProblem[]): ConfigProblem[] {
  return problems
    .map((p, i) => ({ p, i }))
    .sort((a, b) => {
      const la = a.p.line ?? Number.MAX_SAFE_INTEGER;
      const lb = b.p.line ?? Number.MAX_SAFE_INTEGER;
      return la - lb || a.i - b.i;
    })
    .map((x) => x.p);
}
