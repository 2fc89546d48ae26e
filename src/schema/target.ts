/**
 * The predict/run/train entry a cog.yaml names ("predict.py:Predictor", "train.py:train"), found
 * in the source the way src/python/cog/loader.py finds it at run time: the class's run() unless it
 * is BaseRunner's own, else predict() (train() for trainers), or the function itself.
 */
import type { SyntaxNode } from '@lezer/common';
import { type AnnotationContext, specOf } from './annotations.js';
import { type ClassMember, className, findAttribute, mro } from './classes.js';
import type { FieldInfo, InputParam, Located } from './json-schema.js';
import { evalLiteral, type PyValue } from './literals.js';
import type { ModuleScope } from './module-scope.js';
import { childrenOf, quote, schemaError, textOf } from './source.js';

export interface EntryFunction {
  def: SyntaxNode;
  /** The class it was found on (undefined for a plain function target). */
  owner?: string;
  binding: 'function' | 'method' | 'staticmethod' | 'classmethod';
  streamingDecorator: boolean;
  concurrency?: number;
  isAsync: boolean;
}

/** Finds the entry function of `name` in this file for a predict (run/predict) or train target. */
export function findEntry(
  scope: ModuleScope,
  name: string,
  kind: 'predict' | 'train',
  refText: string,
): EntryFunction {
  const src = scope.src;
  const top = src.tree.topNode;
  const r = scope.lookup(name, top);
  const nowhere = (why: string): never =>
    schemaError(
      src,
      0,
      `${refText}: ${why}`,
      'cog.yaml predict/run/train must name a class or function defined in that file',
    );
  if (!r) return nowhere(`${src.displayPath} defines no ${quote(name)}`);
  if (r.kind === 'qualified')
    return nowhere(`${quote(name)} is imported (from ${r.name}); define it in ${src.displayPath}`);
  if (r.kind === 'value')
    schemaError(src, r.node, `${refText}: ${quote(name)} is assigned, which needs Python to evaluate`);
  if (r.kind === 'function') return describe(scope, r.node, r.decorators, undefined);
  if (r.decorated) schemaError(src, r.node, `class ${name} is decorated; decorators need Python to evaluate`);
  const order = mro(scope, { kind: 'local', node: r.node, name: className(scope, r.node) });
  const methods = kind === 'train' ? ['train'] : ['run', 'predict'];
  for (const m of methods) {
    const hit = findAttribute(scope, order, m, r.node);
    if (!hit) continue;
    if (hit.owner.kind === 'external') {
      // BaseRunner.run / BasePredictor.predict are the SDK's placeholders, not the model's.
      if (m === 'run') continue;
      break;
    }
    return describe(
      scope,
      methodDef(scope, hit.member!, `${hit.owner.name}.${m}`),
      hit.member!.decorators,
      hit.owner.name,
    );
  }
  return schemaError(src, r.node, `class ${name} defines none of ${methods.map((m) => m + '()').join('/')}`);
}

function methodDef(scope: ModuleScope, member: ClassMember, label: string): SyntaxNode {
  if (member.def?.name === 'FunctionDefinition') return member.def;
  return schemaError(
    scope.src,
    member.node,
    `${label} is not a plain def, so what it is needs Python to evaluate`,
  );
}

function describe(
  scope: ModuleScope,
  def: SyntaxNode,
  decorators: SyntaxNode[],
  owner: string | undefined,
): EntryFunction {
  const entry: EntryFunction = {
    def,
    owner,
    binding: owner ? 'method' : 'function',
    streamingDecorator: false,
    isAsync: def.getChild('async') !== null,
  };
  for (const d of decorators) {
    const parts = childrenOf(d).filter((c) => c.name !== 'At');
    const args = parts.find((c) => c.name === 'ArgList');
    const nameParts = parts.filter((c) => c.name === 'VariableName');
    const dotted = nameParts.map((c) => textOf(scope.src, c));
    const plain = parts.every((c) => c.name === 'VariableName' || c.name === '.' || c === args);
    const head = plain && dotted.length ? scope.lookup(dotted[0]!, d) : undefined;
    const qualified =
      head?.kind === 'qualified'
        ? [head.name, ...dotted.slice(1)].join('.').replace(/^cog\.(types|predictor)\./, 'cog.')
        : '';
    if (qualified === 'cog.streaming' && !args) entry.streamingDecorator = true;
    else if (qualified === 'cog.concurrent' && args) entry.concurrency = concurrencyOf(scope, args);
    else if ((qualified === 'staticmethod' || qualified === 'classmethod') && !args && owner)
      entry.binding = qualified;
    else {
      schemaError(
        scope.src,
        d,
        `decorator ${quote(textOf(scope.src, d))} may change the signature, which needs Python to know`,
        'cogts understands @cog.streaming, @cog.concurrent(max=N), @staticmethod and @classmethod here',
      );
    }
  }
  return entry;
}

/** `@concurrent(max=N)` -> int(N) (predictor.py). */
function concurrencyOf(scope: ModuleScope, argList: SyntaxNode): number {
  const { positional, keywords } = callArguments(scope, argList);
  const node = keywords.get('max') ?? positional[0];
  if (!node) return 1;
  const v = evalLiteral(scope.src, node, 'concurrent(max=...)');
  if (v.t === 'int') return Number(v.v);
  if (v.t === 'float' || v.t === 'bool') return Math.trunc(Number(v.v));
  return schemaError(scope.src, node, 'concurrent(max=...) must be a number');
}

export interface CallArguments {
  positional: SyntaxNode[];
  keywords: Map<string, SyntaxNode>;
}

export function callArguments(scope: ModuleScope, argList: SyntaxNode): CallArguments {
  const parts = childrenOf(argList).filter((c) => !['(', ')', ','].includes(c.name));
  const out: CallArguments = { positional: [], keywords: new Map() };
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (p.name === '*' || p.name === '**') {
      schemaError(
        scope.src,
        p,
        `argument unpacking ${quote(textOf(scope.src, argList))} needs Python to evaluate`,
      );
    }
    if (p.name === 'VariableName' && parts[i + 1]?.name === 'AssignOp' && parts[i + 2]) {
      const key = textOf(scope.src, p);
      if (out.keywords.has(key))
        schemaError(scope.src, p, `Python syntax error: keyword argument '${key}' repeated`);
      out.keywords.set(key, parts[i + 2]!);
      i += 2;
    } else {
      if (out.keywords.size) schemaError(scope.src, p, 'positional argument after a keyword argument');
      out.positional.push(p);
    }
  }
  return out;
}

interface RawParam {
  name: string;
  nameNode: SyntaxNode;
  annotation?: SyntaxNode;
  default?: SyntaxNode;
  variadic?: boolean;
}

function rawParams(scope: ModuleScope, def: SyntaxNode): RawParam[] {
  const list = def.getChild('ParamList');
  const parts = list ? childrenOf(list) : [];
  const out: RawParam[] = [];
  // Python refuses these at import; lezer's grammar lets them through.
  let keywordOnly = false;
  let sawDefault: RawParam | undefined;
  const syntax = (at: SyntaxNode, why: string): never =>
    schemaError(scope.src, at, `Python syntax error: ${why}`);
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (p.name === '*') keywordOnly = true;
    if ((p.name === '*' || p.name === '**') && parts[i + 1]?.name === 'VariableName') {
      // *args/**kwargs are not inputs: the runtime skips them (SCHEMA.md "Which function").
      out.push({ name: textOf(scope.src, parts[i + 1]!), nameNode: parts[i + 1]!, variadic: true });
      i++;
      while (parts[i + 1] && parts[i + 1]!.name !== ',' && parts[i + 1]!.name !== ')') i++;
      continue;
    }
    if (p.name !== 'VariableName') continue;
    const param: RawParam = { name: textOf(scope.src, p), nameNode: p };
    let j = i + 1;
    if (parts[j]?.name === 'TypeDef') {
      param.annotation = childrenOf(parts[j]!).find((c) => c.name !== ':');
      j++;
    }
    if (parts[j]?.name === 'AssignOp' && parts[j + 1]) {
      param.default = parts[j + 1];
      j += 2;
    }
    if (out.some((o) => o.name === param.name)) syntax(p, `duplicate parameter '${param.name}'`);
    if (param.default) sawDefault = param;
    else if (sawDefault && !keywordOnly) {
      syntax(p, `parameter '${param.name}' without a default follows '${sawDefault.name}' which has one`);
    }
    out.push(param);
    i = j - 1;
  }
  return out;
}

const INPUT_FIELDS = [
  'default',
  'description',
  'ge',
  'le',
  'min_length',
  'max_length',
  'regex',
  'choices',
  'deprecated',
] as const;

const PATH_TYPES = new Set([
  'cog.Path',
  'pathlib.Path',
  'pathlib.PurePath',
  'pathlib.PosixPath',
  'pathlib.PurePosixPath',
]);

/** str(PurePosixPath(s)): drops empty and "." parts, keeps a leading "//" (exactly two). */
export function posixPathString(s: string): string {
  const anchor = s.startsWith('//') && !s.startsWith('///') ? '//' : s.startsWith('/') ? '/' : '';
  const parts = s.split('/').filter((p) => p !== '' && p !== '.');
  const joined = anchor + parts.join('/');
  return joined === '' ? '.' : joined;
}

/** Calls allowed inside defaults: cog.Path("...") / pathlib paths and cog.Secret(...). */
function defaultCall(scope: ModuleScope, call: SyntaxNode): PyValue | undefined {
  const callee = call.firstChild;
  const argList = call.getChild('ArgList');
  const r = callee ? scope.resolve(callee) : undefined;
  if (!argList || r?.kind !== 'qualified') return undefined;
  const { positional, keywords } = callArguments(scope, argList);
  if (PATH_TYPES.has(r.name) && positional.length === 1 && keywords.size === 0) {
    const v = evalLiteral(scope.src, positional[0]!, 'a path default');
    if (v.t === 'str') return { t: 'path', v: posixPathString(v.v) };
  }
  if (r.name === 'cog.Secret' && positional.length + keywords.size <= 1) {
    for (const n of [...positional, ...keywords.values()]) evalLiteral(scope.src, n, 'a Secret default');
    return { t: 'secret' };
  }
  return undefined;
}

function fieldInfo(scope: ModuleScope, param: RawParam): FieldInfo {
  const d = param.default;
  if (!d) return {};
  const what = `default of parameter '${param.name}'`;
  const callee = d.name === 'CallExpression' ? d.firstChild : null;
  const r = callee ? scope.resolve(callee) : undefined;
  if (!(r?.kind === 'qualified' && r.name === 'cog.Input')) {
    return { default: { value: evalLiteral(scope.src, d, what, (c) => defaultCall(scope, c)), node: d } };
  }
  const { positional, keywords } = callArguments(scope, d.getChild('ArgList')!);
  if (positional.length > INPUT_FIELDS.length)
    schemaError(scope.src, d, 'Input() takes at most 9 positional arguments');
  const info: FieldInfo = {};
  const set = (field: (typeof INPUT_FIELDS)[number], node: SyntaxNode) => {
    const value = evalLiteral(scope.src, node, `Input(${field}=...) of parameter '${param.name}'`, (c) =>
      defaultCall(scope, c),
    );
    if (field === 'default' && value.t === 'ellipsis') return; // Input(default=...) means required
    info[field] = { value, node } satisfies Located;
  };
  positional.forEach((node, i) => {
    set(INPUT_FIELDS[i]!, node);
  });
  for (const [k, node] of keywords) {
    if ((INPUT_FIELDS as readonly string[]).includes(k)) set(k as (typeof INPUT_FIELDS)[number], node);
    // Other keywords (accept=, ...) are ignored by the runtime's Input() too, unevaluated.
  }
  return info;
}

/** Python's private name mangling inside a class body: `__x` in class C is `_C__x`. */
export function mangle(name: string, className: string): string {
  const owner = className.replace(/^_+/, '');
  if (!name.startsWith('__') || name.endsWith('__') || !owner) return name;
  return `_${owner}${name}`;
}

/** The parameters the runtime reports: bound self/cls dropped, then any named "self". */
export function inputParams(scope: ModuleScope, entry: EntryFunction, pythonMinor?: number): InputParam[] {
  let params = rawParams(scope, entry.def);
  if (entry.binding === 'method' || entry.binding === 'classmethod') {
    if (!params.length)
      schemaError(scope.src, entry.def, `${entry.owner}: the method takes no self parameter`);
    // A bound method drops its first parameter, unless that is *args (which then takes self).
    if (!params[0]!.variadic) params = params.slice(1);
  }
  return params
    .filter((p) => p.name !== 'self' && !p.variadic)
    .map((p) => ({ ...p, name: entry.owner ? mangle(p.name, entry.owner) : p.name }))
    .map((p) => {
      const ctx: AnnotationContext = { scope, where: `parameter '${p.name}'`, pythonMinor };
      const spec = specOf(ctx, p.annotation);
      if (spec.kind === 'iterator' || spec.kind === 'model') {
        schemaError(
          scope.src,
          p.annotation ?? p.nameNode,
          `parameter '${p.name}': ${spec.kind} is only supported as an output`,
        );
      }
      return { name: p.name, spec, info: fieldInfo(scope, p) };
    });
}

/** The `-> T` annotation node, if any. */
export function returnAnnotation(def: SyntaxNode): SyntaxNode | undefined {
  const typeDef = childrenOf(def).find((c) => c.name === 'TypeDef');
  return typeDef ? childrenOf(typeDef).find((c) => c.name !== ':' && c.name !== '->') : undefined;
}
