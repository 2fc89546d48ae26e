/**
 * PEP 508 dependency specifiers and environment markers. Markers are evaluated against the TARGET
 * image's environment (see target.ts), never the host's: a macOS laptop resolving for linux/amd64
 * must see `sys_platform == "linux"`.
 */
import { compare, satisfies, valid } from '@renovatebot/pep440';
import { normalizeName } from './names.js';

export interface Requirement {
  /** As written (for messages). */
  name: string;
  /** Normalised (PEP 503). */
  key: string;
  extras: string[];
  /** PEP 440 specifier set, e.g. ">=1.0,<2"; "" means any. */
  specifier: string;
  /** Direct reference (`name @ url`). */
  url?: string;
  marker?: Marker;
  /** The text it came from. */
  text: string;
}

export type Marker =
  | { op: 'and' | 'or'; left: Marker; right: Marker }
  | { op: 'cmp'; lhs: MarkerValue; cmp: string; rhs: MarkerValue };
type MarkerValue = { variable: string } | { literal: string };

export type MarkerEnv = Record<string, string>;

export class Pep508Error extends Error {}

const VERSION_VARS = new Set(['python_version', 'python_full_version', 'implementation_version']);

/** Parse one PEP 508 line (no requirements-file options). Throws Pep508Error with a reason. */
export function parseRequirement(text: string): Requirement {
  const src = text.trim();
  const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*/.exec(src);
  if (!m) throw new Pep508Error(`expected a project name at "${src}"`);
  const name = m[1] as string;
  let rest = src.slice(m[0].length);
  let extras: string[] = [];
  if (rest.startsWith('[')) {
    const end = rest.indexOf(']');
    if (end < 0) throw new Pep508Error('unclosed "[" in extras');
    extras = rest
      .slice(1, end)
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean)
      .map(normalizeName);
    for (const e of extras)
      if (!/^[a-z0-9][a-z0-9-]*$/.test(e)) throw new Pep508Error(`invalid extra "${e}"`);
    rest = rest.slice(end + 1).trim();
  }
  let url: string | undefined;
  let specifier = '';
  let markerText: string | undefined;
  if (rest.startsWith('@')) {
    // A URL ends at whitespace; a marker may follow after " ;".
    const um = /^@\s*(\S+)\s*(?:;(.*))?$/.exec(rest);
    if (!um) throw new Pep508Error('expected a URL after "@"');
    url = um[1];
    markerText = um[2];
  } else {
    const semi = rest.indexOf(';');
    const specText = (semi >= 0 ? rest.slice(0, semi) : rest).trim();
    markerText = semi >= 0 ? rest.slice(semi + 1) : undefined;
    specifier = normalizeSpecifier(specText);
  }
  const req: Requirement = { name, key: normalizeName(name), extras, specifier, text: src };
  if (url) req.url = url;
  if (markerText !== undefined) {
    if (!markerText.trim()) throw new Pep508Error('empty marker after ";"');
    req.marker = parseMarker(markerText);
  }
  return req;
}

function normalizeSpecifier(spec: string): string {
  let s = spec.trim();
  if (s.startsWith('(') && s.endsWith(')')) s = s.slice(1, -1).trim();
  if (!s) return '';
  const clauses = s.split(',').map((c) => c.trim());
  for (const c of clauses) {
    const cm = /^(~=|===|==|!=|<=|>=|<|>)\s*([A-Za-z0-9.*+!_-]+)$/.exec(c);
    if (!cm) throw new Pep508Error(`invalid version specifier "${c}"`);
    const v = (cm[2] as string).replace(/\.\*$/, '');
    if (cm[1] !== '===' && !valid(v)) throw new Pep508Error(`invalid version "${cm[2]}" in "${c}"`);
  }
  return clauses.map((c) => c.replace(/\s+/g, '')).join(',');
}

/** Does `version` satisfy the specifier set? Pre-releases only when allowed or named explicitly. */
export function versionMatches(version: string, specifier: string, pre: boolean): boolean {
  if (!specifier) return pre || !isPrerelease(version);
  const clauses = specifier.split(',');
  // PEP 440: a specifier that names a pre-release admits pre-releases.
  const allowPre = pre || clauses.some((c) => /(a|b|rc|dev|c)\d*$/i.test(c.replace(/^[<>=!~]+/, '')));
  return clauses.every((c) => {
    if (c.startsWith('===')) return version === c.slice(3);
    return satisfies(version, c, { prereleases: allowPre });
  });
}

export function isPrerelease(version: string): boolean {
  return /(a|b|rc|c|dev|alpha|beta|pre|preview)\.?\d*/i.test(
    version.replace(/\+.*$/, '').replace(/^\d+!/, ''),
  );
}

export function compareVersions(a: string, b: string): number {
  return compare(a, b);
}

// ---- markers --------------------------------------------------------------------------------------

export function parseMarker(text: string): Marker {
  const toks = tokenizeMarker(text);
  let i = 0;
  const peek = () => toks[i];
  const orExpr = (): Marker => {
    let left = andExpr();
    while (peek() === 'or') {
      i++;
      left = { op: 'or', left, right: andExpr() };
    }
    return left;
  };
  const andExpr = (): Marker => {
    let left = atom();
    while (peek() === 'and') {
      i++;
      left = { op: 'and', left, right: atom() };
    }
    return left;
  };
  const value = (): MarkerValue => {
    const t = toks[i++];
    if (t === undefined) throw new Pep508Error('marker ends early');
    if (t.startsWith('"') || t.startsWith("'")) return { literal: t.slice(1, -1) };
    if (!MARKER_VARS.has(t)) throw new Pep508Error(`unknown marker variable "${t}"`);
    return { variable: t === 'python_implementation' ? 'platform_python_implementation' : t };
  };
  const atom = (): Marker => {
    if (peek() === '(') {
      i++;
      const e = orExpr();
      if (toks[i++] !== ')') throw new Pep508Error('missing ")" in marker');
      return e;
    }
    const lhs = value();
    let cmp = toks[i++];
    if (cmp === 'not') {
      if (toks[i++] !== 'in') throw new Pep508Error('expected "in" after "not" in marker');
      cmp = 'not in';
    }
    if (cmp === undefined || !MARKER_OPS.has(cmp))
      throw new Pep508Error(`expected a comparison in marker, got "${cmp ?? 'end'}"`);
    return { op: 'cmp', lhs, cmp, rhs: value() };
  };
  const m = orExpr();
  if (i !== toks.length) throw new Pep508Error(`unexpected "${toks[i]}" in marker`);
  return m;
}

const MARKER_OPS = new Set(['==', '!=', '<', '<=', '>', '>=', '~=', '===', 'in', 'not in']);
const MARKER_VARS = new Set([
  'os_name',
  'sys_platform',
  'platform_machine',
  'platform_python_implementation',
  'python_implementation',
  'platform_release',
  'platform_system',
  'platform_version',
  'python_version',
  'python_full_version',
  'implementation_name',
  'implementation_version',
  'extra',
]);

function tokenizeMarker(text: string): string[] {
  const out: string[] = [];
  const re = /\s*(\(|\)|===|==|!=|<=|>=|~=|<|>|"[^"]*"|'[^']*'|[A-Za-z_][A-Za-z0-9_.]*)/y;
  let pos = 0;
  while (pos < text.length) {
    if (/^\s*$/.test(text.slice(pos))) break;
    re.lastIndex = pos;
    const m = re.exec(text);
    if (!m) throw new Pep508Error(`cannot parse marker near "${text.slice(pos).trim()}"`);
    out.push(m[1] as string);
    pos = re.lastIndex;
  }
  return out;
}

/** Evaluate for the target environment; `extra` is "" unless evaluating a dependency for an extra. */
export function evaluateMarker(m: Marker, env: MarkerEnv): boolean {
  if (m.op === 'cmp') return evaluateComparison(m, env);
  return m.op === 'and'
    ? evaluateMarker(m.left, env) && evaluateMarker(m.right, env)
    : evaluateMarker(m.left, env) || evaluateMarker(m.right, env);
}

function evaluateComparison(m: Extract<Marker, { op: 'cmp' }>, env: MarkerEnv): boolean {
  const varName = 'variable' in m.lhs ? m.lhs.variable : 'variable' in m.rhs ? m.rhs.variable : '';
  const get = (v: MarkerValue) => ('literal' in v ? v.literal : (env[v.variable] ?? ''));
  let l = get(m.lhs);
  let r = get(m.rhs);
  if (varName === 'extra') {
    l = normalizeName(l);
    r = normalizeName(r);
  }
  switch (m.cmp) {
    case 'in':
      return r.includes(l);
    case 'not in':
      return !r.includes(l);
    case '===':
      return l === r;
  }
  if ((VERSION_VARS.has(varName) || m.cmp === '~=') && valid(l) && validSpecVersion(r)) {
    // The variable's value is the version; the literal is the specifier's operand.
    if ('variable' in m.lhs) return satisfies(l, `${m.cmp}${r}`, { prereleases: true });
    return satisfies(r, `${flip(m.cmp)}${l}`, { prereleases: true });
  }
  switch (m.cmp) {
    case '==':
      return l === r;
    case '!=':
      return l !== r;
    case '<':
      return l < r;
    case '<=':
      return l <= r;
    case '>':
      return l > r;
    case '>=':
      return l >= r;
    default:
      return false;
  }
}

function validSpecVersion(v: string): boolean {
  return valid(v.replace(/\.\*$/, '')) !== null;
}

function flip(op: string): string {
  return ({ '<': '>', '>': '<', '<=': '>=', '>=': '<=' } as Record<string, string>)[op] ?? op;
}
