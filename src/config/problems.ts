import leven from 'leven';
import { CogtsError } from '../errors.js';

/** One thing wrong with a cog.yaml, located precisely enough for an editor to jump to it. */
export interface ConfigProblem {
  /** The cog.yaml as the user named it (relative to the working directory when inside it). */
  file: string;
  /** 1-based line and column of the offending key or value (of the parent when a key is missing). */
  line: number;
  column: number;
  /** Dotted field path, e.g. `build.python_packages[2]`; empty for the document itself. */
  field: string;
  /** What is wrong, e.g. `unknown key "pyhton_version"` or `expected true or false, got "maybe"`. */
  message: string;
  /** The fix, when one is obvious, e.g. `did you mean python_version?`. */
  suggestion?: string;
}

/** A path into the YAML document: mapping keys and sequence indexes. */
export type FieldPath = (string | number)[];

export function formatPath(path: FieldPath): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? seg : `.${seg}`;
  }
  return out;
}

export function formatProblem(p: ConfigProblem): string {
  const where = `${p.file}:${p.line}:${p.column}`;
  const field = p.field === '' ? '' : ` ${p.field}:`;
  const fix = p.suggestion ? ` (${p.suggestion})` : '';
  return `${where}:${field} ${p.message}${fix}`;
}

/**
 * The error loadConfig throws: one CogtsError (code E_CONFIG) whose message lists every problem,
 * one per line, so a user fixes them all in one round; `problems` keeps them structured.
 */
export class ConfigError extends CogtsError {
  readonly problems: readonly ConfigProblem[];

  constructor(file: string, problems: ConfigProblem[], options: { cause?: unknown } = {}) {
    const head =
      problems.length === 1 ? `${file} has a problem:` : `${file} has ${problems.length} problems:`;
    const hints = problems.filter((p) => p.suggestion !== undefined).length;
    super('E_CONFIG', [head, ...problems.map((p) => `  ${formatProblem(p)}`)].join('\n'), {
      hint:
        hints > 0
          ? 'suggested fixes are in parentheses'
          : 'see the cog.yaml reference in README.md (section "cog.yaml")',
      ...options,
    });
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

/** The closest candidate within a small edit distance, for "did you mean …?" hints. */
export function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  const lower = word.toLowerCase();
  for (const c of candidates) {
    const d = leven(lower, c.toLowerCase());
    if (d < bestDistance) {
      best = c;
      bestDistance = d;
    }
  }
  // Allow roughly one typo per three characters (at least two, so a swap like `buidl` counts),
  // but never a distance that rewrites the whole word (`foo` is not `gpu`).
  const limit = Math.max(2, Math.floor(word.length / 3));
  return bestDistance <= limit && bestDistance < word.length ? best : undefined;
}

/** "a string", "true", "a list" … for messages of the form `expected X, got Y`. */
export function describeValue(value: unknown): string {
  if (value === null || value === undefined) return 'nothing (null)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  return String(value);
}
