import { CogtsError } from '../errors.js';
import type { VersionOp } from './version.js';

/** One package reference in a relation field: `name[:arch] [(op version)]`. */
export interface Atom {
  name: string;
  /** `any`, `native`, or a concrete architecture; undefined when the relation had no qualifier. */
  archQualifier?: string;
  op?: VersionOp;
  version?: string;
}

/** `a | b` alternatives: one of them must hold. */
export type Alternatives = Atom[];

const ATOM =
  /^([a-z0-9][a-z0-9+.-]*)(?::([a-z0-9-]+))?\s*(?:\(\s*(<<|<=|=|>=|>>|<|>)\s*([^\s)]+)\s*\))?\s*(?:\[[^\]]*\])?\s*(?:<[^>]*>\s*)*$/i;

export function parseAtom(text: string, context: string): Atom {
  const m = ATOM.exec(text.trim());
  if (!m) throw new CogtsError('E_APT_RELATION', `cannot parse relation "${text}" in ${context}`);
  const atom: Atom = { name: m[1]!.toLowerCase() };
  if (m[2]) atom.archQualifier = m[2];
  if (m[3] && m[4]) {
    // `<` and `>` are the deprecated spellings of `<=` and `>=` (deb-control(5)).
    atom.op = m[3] === '<' ? '<=' : m[3] === '>' ? '>=' : (m[3] as VersionOp);
    atom.version = m[4];
  }
  return atom;
}

/** Parses Depends/Pre-Depends/Provides-style fields: comma-separated groups of `|` alternatives. */
export function parseRelations(text: string | undefined, context: string): Alternatives[] {
  if (!text) return [];
  return text
    .split(',')
    .map((g) => g.trim())
    .filter((g) => g.length > 0)
    .map((g) => g.split('|').map((a) => parseAtom(a, context)));
}

export function formatAtom(a: Atom): string {
  const arch = a.archQualifier ? `:${a.archQualifier}` : '';
  const ver = a.op ? ` (${a.op} ${a.version})` : '';
  return `${a.name}${arch}${ver}`;
}
