/**
 * Python literal expressions evaluated without Python: numbers, strings, True/False/None, `...`,
 * and lists/tuples/dicts of those. Anything that would need the interpreter (names, calls,
 * arithmetic, f-string fields, sets) is an E_SCHEMA error at its position.
 */
import type { SyntaxNode } from '@lezer/common';
import { childrenOf, type PySource, quote, schemaError, textOf } from './source.js';

export type PyValue =
  | { t: 'none' }
  | { t: 'ellipsis' }
  | { t: 'bool'; v: boolean }
  | { t: 'int'; v: bigint }
  | { t: 'float'; v: number }
  | { t: 'str'; v: string }
  | { t: 'list' | 'tuple'; items: PyValue[] }
  | { t: 'dict'; entries: Array<[PyValue, PyValue]> }
  /** cog.Path("x") / pathlib.Path("x"): json-encoded by the runtime as str(path). */
  | { t: 'path'; v: string }
  /** cog.Secret(...): json-encoded by the runtime as the mask. */
  | { t: 'secret' };

export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Decides what a call in a literal position means; returns undefined when it is not allowed. */
export type CallEvaluator = (call: SyntaxNode) => PyValue | undefined;

export function evalLiteral(src: PySource, node: SyntaxNode, what: string, onCall?: CallEvaluator): PyValue {
  const needsPython = (construct: string): never =>
    schemaError(
      src,
      node,
      `${what} is ${construct} ${quote(textOf(src, node))}, which needs Python to evaluate`,
    );
  switch (node.name) {
    case 'None':
      return { t: 'none' };
    case 'Ellipsis':
      return { t: 'ellipsis' };
    case 'Boolean':
      return { t: 'bool', v: textOf(src, node) === 'True' };
    case 'Number':
      return parseNumber(src, node, what);
    case 'String':
    case 'FormatString':
    case 'ContinuedString':
      return { t: 'str', v: stringValue(src, node, what) };
    case 'ParenthesizedExpression': {
      const inner = childrenOf(node).filter((c) => c.name !== '(' && c.name !== ')');
      if (inner.length !== 1) return needsPython('an expression');
      return evalLiteral(src, inner[0]!, what, onCall);
    }
    case 'UnaryExpression': {
      const [op, operand] = childrenOf(node);
      const sign = op ? textOf(src, op) : '';
      if ((sign === '-' || sign === '+') && operand) {
        const v = evalLiteral(src, operand, what, onCall);
        if (v.t === 'int') return { t: 'int', v: sign === '-' ? -v.v : v.v };
        if (v.t === 'float') return { t: 'float', v: sign === '-' ? -v.v : v.v };
      }
      return needsPython('the operation');
    }
    case 'ArrayExpression':
    case 'TupleExpression': {
      const items: PyValue[] = [];
      for (const c of childrenOf(node)) {
        if (c.name === '*') return needsPython('an unpacking');
        if (['[', ']', '(', ')', ','].includes(c.name)) continue;
        items.push(evalLiteral(src, c, what, onCall));
      }
      return { t: node.name === 'ArrayExpression' ? 'list' : 'tuple', items };
    }
    case 'DictionaryExpression': {
      const parts = childrenOf(node).filter((c) => !['{', '}', ',', ':'].includes(c.name));
      if (parts.some((c) => c.name === '**')) return needsPython('an unpacking');
      const entries: Array<[PyValue, PyValue]> = [];
      for (let i = 0; i + 1 < parts.length; i += 2) {
        entries.push([
          evalLiteral(src, parts[i]!, what, onCall),
          evalLiteral(src, parts[i + 1]!, what, onCall),
        ]);
      }
      if (parts.length % 2 !== 0) return needsPython('a dict expression');
      return { t: 'dict', entries };
    }
    case 'CallExpression': {
      const v = onCall?.(node);
      if (v) return v;
      return needsPython('a function call');
    }
    case 'VariableName':
    case 'MemberExpression':
      return needsPython('a reference to');
    case 'BinaryExpression':
      return needsPython('an arithmetic/boolean expression');
    case 'SetExpression':
      return needsPython('a set (not JSON-encodable)');
    default:
      return needsPython(`a ${node.name}`);
  }
}

function parseNumber(src: PySource, node: SyntaxNode, what: string): PyValue {
  const raw = textOf(src, node).replace(/_/g, '');
  if (/[jJ]$/.test(raw))
    schemaError(src, node, `${what} is a complex number ${quote(raw)} (not JSON-encodable)`);
  if (/^0[xX][0-9a-fA-F]+$|^0[oO][0-7]+$|^0[bB][01]+$|^\d+$/.test(raw)) {
    return { t: 'int', v: BigInt(/^0[oO]/.test(raw) ? '0o' + raw.slice(2) : raw) };
  }
  const f = Number(raw);
  if (!Number.isFinite(f)) schemaError(src, node, `${what} is ${quote(raw)}, which is not a finite float`);
  return { t: 'float', v: f };
}

const SIMPLE_ESCAPES: Record<string, string> = {
  '\n': '',
  '\\': '\\',
  "'": "'",
  '"': '"',
  a: '\x07',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
  v: '\v',
};

/** The value of a str literal (adjacent literals concatenated); bytes and f-string fields are errors. */
export function stringValue(src: PySource, node: SyntaxNode, what: string): string {
  if (node.name === 'ContinuedString') {
    return childrenOf(node)
      .map((part) => stringValue(src, part, what))
      .join('');
  }
  const text = textOf(src, node);
  const m = /^([rRuUbBfF]{0,2})('''|"""|'|")/.exec(text);
  if (!m) return schemaError(src, node, `${what}: cannot read the string literal ${quote(text)}`);
  const prefix = m[1]!.toLowerCase();
  const q = m[2]!;
  const body = text.slice(prefix.length + q.length, text.length - q.length);
  if (prefix.includes('b'))
    schemaError(src, node, `${what} is a bytes literal ${quote(text)} (not JSON-encodable)`);
  if (prefix.includes('f') && /[{}]/.test(body)) {
    schemaError(src, node, `${what} is an f-string with fields or braces ${quote(text)}, which needs Python`);
  }
  if (prefix.includes('r')) return body;
  return decodeEscapes(src, node, body, what);
}

function decodeEscapes(src: PySource, node: SyntaxNode, body: string, what: string): string {
  let out = '';
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch !== '\\' || i + 1 >= body.length) {
      out += ch;
      continue;
    }
    const e = body[i + 1]!;
    if (e in SIMPLE_ESCAPES) {
      out += SIMPLE_ESCAPES[e];
      i++;
    } else if (/[0-7]/.test(e)) {
      const digits = /^[0-7]{1,3}/.exec(body.slice(i + 1))![0];
      out += String.fromCodePoint(Number.parseInt(digits, 8));
      i += digits.length;
    } else if (e === 'x' || e === 'u' || e === 'U') {
      const len = e === 'x' ? 2 : e === 'u' ? 4 : 8;
      const hex = body.slice(i + 2, i + 2 + len);
      const code = /^[0-9a-fA-F]+$/.test(hex) && hex.length === len ? Number.parseInt(hex, 16) : Number.NaN;
      if (!(code <= 0x10ffff)) schemaError(src, node, `${what}: invalid \\${e} escape in a string literal`);
      out += String.fromCodePoint(code);
      i += 1 + len;
    } else if (e === 'N') {
      schemaError(src, node, `${what}: \\N{...} escapes are not supported; write the character itself`);
    } else {
      // Python keeps unknown escapes as written (with a warning).
      out += ch;
    }
  }
  return out;
}

/** Python truthiness, for `if info.deprecated:`. */
export function truthy(v: PyValue): boolean {
  switch (v.t) {
    case 'none':
      return false;
    case 'bool':
      return v.v;
    case 'int':
      return v.v !== 0n;
    case 'float':
      return v.v !== 0;
    case 'str':
      return v.v !== '';
    case 'list':
    case 'tuple':
      return v.items.length > 0;
    case 'dict':
      return v.entries.length > 0;
    case 'path':
      return true;
    default:
      return true;
  }
}

/**
 * What Python's json.dumps writes for a value, read back by JSON.parse. `top` allows the two
 * conversions the runtime applies to a default value only (Secret -> mask, Path -> str).
 */
export function toJson(src: PySource, at: SyntaxNode | number, v: PyValue, what: string, top = false): Json {
  switch (v.t) {
    case 'none':
      return null;
    case 'bool':
      return v.v;
    case 'int':
      return Number(v.v);
    case 'float':
    case 'str':
      return v.v;
    case 'list':
    case 'tuple':
      return v.items.map((x) => toJson(src, at, x, what));
    case 'dict': {
      const out: { [k: string]: Json } = {};
      for (const [k, val] of v.entries) {
        if (k.t !== 'str') schemaError(src, at, `${what}: dict keys must be strings to be written as JSON`);
        out[k.v] = toJson(src, at, val, what);
      }
      return out;
    }
    case 'path':
      if (top) return v.v;
      break;
    case 'secret':
      if (top) return '**********';
      break;
  }
  return schemaError(src, at, `${what}: ${v.t === 'ellipsis' ? '`...`' : v.t} is not JSON-encodable here`);
}
