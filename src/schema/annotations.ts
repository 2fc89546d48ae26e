/**
 * A type annotation read from source, reduced to the shapes of src/python/cog/typespec.py
 * (`spec_of`): the same kinds, the same Optional handling, the same errors for what Cog cannot
 * serve — plus an error for anything whose meaning would need Python to run.
 */
import type { SyntaxNode } from '@lezer/common';
import { parser } from '@lezer/python';
import { className, directBases, mro } from './classes.js';
import { evalLiteral, type PyValue, stringValue } from './literals.js';
import type { ModuleScope } from './module-scope.js';
import { childrenOf, quote, schemaError, textOf } from './source.js';

export type ScalarKind = 'str' | 'int' | 'float' | 'bool' | 'dict' | 'path' | 'file' | 'secret' | 'any';

export type Spec = { optional: boolean } & (
  | { kind: ScalarKind }
  | { kind: 'list'; item: Spec }
  | { kind: 'literal'; values: PyValue[] }
  | { kind: 'model'; model: SyntaxNode; name: string }
  | { kind: 'iterator'; item: Spec; concatenate: boolean; isAsync: boolean }
);

const SCALARS: Record<string, ScalarKind> = {
  str: 'str',
  int: 'int',
  float: 'float',
  bool: 'bool',
  dict: 'dict',
  'typing.Dict': 'dict',
  'typing.Any': 'any',
  'cog.Path': 'path',
  'pathlib.Path': 'path',
  'pathlib.PurePath': 'path',
  'pathlib.PosixPath': 'path',
  'pathlib.PurePosixPath': 'path',
  'cog.File': 'file',
  'cog.Secret': 'secret',
};

const SYNC_ITERATORS = ['Iterator', 'Iterable', 'Generator'];
const ASYNC_ITERATORS = ['AsyncIterator', 'AsyncIterable', 'AsyncGenerator'];

function iteratorKind(name: string): { isAsync: boolean; bareOk: boolean } | undefined {
  const m = /^(typing|collections\.abc)\.(\w+)$/.exec(name);
  if (!m) return undefined;
  const [, mod, base] = m;
  // Bare `typing.Iterator` has an origin; bare `collections.abc.Iterator` does not (typespec.py).
  if (SYNC_ITERATORS.includes(base!)) return { isAsync: false, bareOk: mod === 'typing' };
  if (ASYNC_ITERATORS.includes(base!)) return { isAsync: true, bareOk: mod === 'typing' };
  return undefined;
}

export interface AnnotationContext {
  scope: ModuleScope;
  /** "parameter 'x'", "return type", "Output.score": names the annotation in errors. */
  where: string;
  /** Python minor version of the image (3.X), when known: 3.8 lacks list[int], <3.10 lacks X | Y. */
  pythonMinor?: number;
}

export function specOf(ctx: AnnotationContext, node: SyntaxNode | null | undefined): Spec {
  if (!node) return { kind: 'any', optional: false };
  const members = unionMembers(ctx, node);
  if (members.length !== 1 || members[0] !== node) {
    const rest = members.filter((m) => m.name !== 'None');
    if (rest.length === 1) {
      const inner = specOf(ctx, rest[0]);
      // Union[X] is X itself; Optional[X] and X | None mark it optional.
      return rest.length < members.length ? { ...inner, optional: true } : inner;
    }
    return schemaError(
      ctx.scope.src,
      node,
      `${ctx.where}: unions other than Optional[T] are not supported (${quote(textOf(ctx.scope.src, node))})`,
    );
  }
  return single(ctx, node);
}

/** Members of a Union/Optional/`|` annotation, flattened as typing does; [node] for anything else. */
function unionMembers(ctx: AnnotationContext, node: SyntaxNode): SyntaxNode[] {
  const src = ctx.scope.src;
  if (node.name === 'ParenthesizedExpression') {
    const inner = childrenOf(node).filter((c) => c.name !== '(' && c.name !== ')');
    if (inner.length === 1) return unionMembers(ctx, inner[0]!);
  }
  if (node.name === 'String' || node.name === 'ContinuedString')
    return unionMembers(ctx, stringAnnotation(ctx, node));
  if (node.name === 'BinaryExpression') {
    const [left, op, right] = childrenOf(node);
    if (op && textOf(src, op) === '|' && left && right) {
      if (ctx.pythonMinor !== undefined && ctx.pythonMinor < 10) {
        schemaError(
          src,
          node,
          `${ctx.where}: \`X | Y\` annotations need Python 3.10 or newer (the model uses 3.${ctx.pythonMinor})`,
        );
      }
      return [...unionMembers(ctx, left), ...unionMembers(ctx, right)];
    }
  }
  const sub = subscript(ctx, node);
  if (sub) {
    const r = ctx.scope.resolve(sub.base);
    if (r?.kind === 'qualified' && r.name === 'typing.Union')
      return sub.args.flatMap((a) => unionMembers(ctx, a));
    if (r?.kind === 'qualified' && r.name === 'typing.Optional') {
      if (sub.args.length !== 1) schemaError(src, node, `${ctx.where}: Optional takes exactly one type`);
      return [...unionMembers(ctx, sub.args[0]!), NONE_MEMBER];
    }
  }
  return [node];
}

/** The None that Optional[X] adds to X (only its name is ever looked at). */
const NONE_MEMBER = { name: 'None' } as SyntaxNode;

/** `X[a, b]` -> { base: X, args: [a, b] }; `X[(a, b)]` is the same subscript in Python. */
function subscript(
  ctx: AnnotationContext,
  node: SyntaxNode,
): { base: SyntaxNode; args: SyntaxNode[] } | undefined {
  if (node.name !== 'MemberExpression') return undefined;
  const parts = childrenOf(node);
  const open = parts.findIndex((c) => c.name === '[');
  if (open !== 1 || parts[parts.length - 1]?.name !== ']') return undefined;
  let args = parts.slice(2, -1).filter((c) => c.name !== ',');
  if (args.length === 1 && args[0]!.name === 'TupleExpression') {
    args = childrenOf(args[0]!).filter((c) => !['(', ')', ','].includes(c.name));
  }
  if (args.some((a) => a.name === '*' || a.name === 'Slice' || a.name === ':')) {
    schemaError(
      ctx.scope.src,
      node,
      `${ctx.where}: unsupported subscript ${quote(textOf(ctx.scope.src, node))}`,
    );
  }
  return { base: parts[0]!, args };
}

/**
 * A string annotation ("List[int]", or any annotation under `from __future__ import annotations`
 * when written as a string): parsed in place so positions and names still point into the file.
 */
function stringAnnotation(ctx: AnnotationContext, node: SyntaxNode): SyntaxNode {
  const src = ctx.scope.src;
  const raw = textOf(src, node);
  const value = stringValue(src, node, ctx.where);
  const m = /^[rRuU]?('''|"""|'|")/.exec(raw);
  const start = node.from + (m ? m[0].length : 0);
  if (!m || node.name !== 'String' || src.text.slice(start, start + value.length) !== value) {
    return schemaError(
      src,
      node,
      `${ctx.where}: string annotation ${quote(raw)} must be one plain literal without escapes`,
    );
  }
  // Blank everything before the annotation (newlines kept) so offsets match the file.
  const text = src.text.slice(0, start - 1).replace(/[^\n]/g, ' ') + '(' + value + ')';
  const tree = parser.parse(text);
  const stmt = tree.topNode.firstChild;
  const paren = stmt?.name === 'ExpressionStatement' && !stmt.nextSibling ? stmt.firstChild : null;
  let bad = false;
  tree.iterate({
    enter: (n) => {
      if (n.type.isError) bad = true;
    },
  });
  const inner =
    paren?.name === 'ParenthesizedExpression'
      ? childrenOf(paren).filter((c) => c.name !== '(' && c.name !== ')')
      : [];
  if (bad || inner.length !== 1) {
    return schemaError(
      src,
      node,
      `${ctx.where}: string annotation ${quote(raw)} is not a single type expression`,
    );
  }
  return inner[0]!;
}

function single(ctx: AnnotationContext, node: SyntaxNode): Spec {
  const src = ctx.scope.src;
  const bad = (why: string): never =>
    schemaError(src, node, `${ctx.where}: ${why} ${quote(textOf(src, node))}`);
  // get_type_hints turns a None annotation into NoneType, which typespec.py rejects.
  if (node.name === 'None') return bad('unsupported type NoneType');
  if (node.name === 'String' || node.name === 'ContinuedString')
    return specOf(ctx, stringAnnotation(ctx, node));
  const sub = subscript(ctx, node);
  const head = sub ? sub.base : node;
  const r = ctx.scope.resolve(head);
  if (!r) {
    if (head.name === 'VariableName') return bad(`unknown name (not imported or defined in this file)`);
    return bad('unsupported annotation');
  }
  if (r.kind === 'class') {
    if (sub) return bad('a class of this file cannot be subscripted');
    if (r.decorated) return bad('a decorated class needs Python to evaluate');
    return modelSpec(ctx, r.node, node);
  }
  if (r.kind !== 'qualified')
    return bad('a type alias or value needs Python to evaluate; annotate with the type itself');
  const name = r.name;
  const args = sub?.args ?? [];
  if (sub && ctx.pythonMinor !== undefined && ctx.pythonMinor < 9 && (name === 'list' || name === 'dict')) {
    bad(
      `${name}[...] needs Python 3.9 or newer (the model uses 3.${ctx.pythonMinor}); use typing.${name === 'list' ? 'List' : 'Dict'}`,
    );
  }
  if (name === 'list' || name === 'typing.List') {
    if (sub && args.length !== 1) bad('a list takes exactly one item type');
    return {
      kind: 'list',
      item: sub ? specOf(ctx, args[0]) : { kind: 'any', optional: false },
      optional: false,
    };
  }
  if (name === 'dict' || name === 'typing.Dict') return { kind: 'dict', optional: false };
  if (name in SCALARS) {
    if (sub) bad('this type cannot be subscripted');
    return { kind: SCALARS[name]!, optional: false };
  }
  if (name === 'typing.Literal') {
    if (!sub) bad('bare Literal needs values');
    return { kind: 'literal', values: literalValues(ctx, args, node), optional: false };
  }
  if (name === 'cog.ConcatenateIterator' || name === 'cog.AsyncConcatenateIterator') {
    const item = sub ? specOf(ctx, args[0]) : { kind: 'str' as const, optional: false };
    return {
      kind: 'iterator',
      item,
      concatenate: true,
      isAsync: name.startsWith('cog.Async'),
      optional: false,
    };
  }
  const it = iteratorKind(name);
  if (it) {
    if (!sub && !it.bareOk) bad('unsupported type');
    const item = sub && args.length ? specOf(ctx, args[0]) : { kind: 'any' as const, optional: false };
    return { kind: 'iterator', item, concatenate: false, isAsync: it.isAsync, optional: false };
  }
  if (name === 'cog.BaseModel') bad('cog.BaseModel itself has no fields; annotate with a subclass');
  if (name.includes('.') && !/^(typing|cog|pathlib|collections\.abc)\./.test(name)) {
    return bad(`${name} comes from another module, so what it is needs Python to know; annotation`);
  }
  return bad(`unsupported type ${name}`);
}

function literalValues(ctx: AnnotationContext, args: SyntaxNode[], at: SyntaxNode): PyValue[] {
  const src = ctx.scope.src;
  const out: PyValue[] = [];
  for (const a of args) {
    const sub = subscript(ctx, a);
    const r = sub ? ctx.scope.resolve(sub.base) : undefined;
    if (sub && r?.kind === 'qualified' && r.name === 'typing.Literal') {
      out.push(...literalValues(ctx, sub.args, a)); // Literal[Literal[1], 2] is Literal[1, 2]
      continue;
    }
    const v = evalLiteral(src, a, `${ctx.where}: Literal value`);
    if (!['str', 'int', 'float', 'bool', 'none'].includes(v.t)) {
      schemaError(src, a, `${ctx.where}: Literal values must be strings, numbers, booleans or None`);
    }
    if (
      out.some((o) => o.t === v.t && 'v' in o && 'v' in v && o.v === v.v) ||
      (v.t === 'none' && out.some((o) => o.t === 'none'))
    ) {
      // typing removes duplicates only on some Python versions; refuse rather than guess.
      schemaError(src, a, `${ctx.where}: Literal lists ${quote(textOf(src, a))} twice; remove the duplicate`);
    }
    out.push(v);
  }
  if (!out.length) schemaError(src, at, `${ctx.where}: Literal needs at least one value`);
  return out;
}

/** A class of this file used as a type: only cog.BaseModel subclasses are (object outputs). */
function modelSpec(ctx: AnnotationContext, classNode: SyntaxNode, use: SyntaxNode): Spec {
  const src = ctx.scope.src;
  const name = className(ctx.scope, classNode);
  const order = mro(ctx.scope, { kind: 'local', node: classNode, name });
  const isModel = order.some((c) => c.kind === 'external' && c.name === 'cog.BaseModel');
  if (!isModel) {
    const ext = order.find((c) => c.kind === 'external' && c.name !== 'object');
    schemaError(
      src,
      use,
      `${ctx.where}: class ${name} is not a cog.BaseModel subclass` +
        (ext && ext.kind === 'external' ? ` (it derives from ${ext.name})` : ''),
    );
  }
  directBases(ctx.scope, classNode); // validates the bases once more at the point of use
  return { kind: 'model', model: classNode, name, optional: false };
}
