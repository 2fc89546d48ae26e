/**
 * Classes of predict.py as Python would see them without running the file: the method resolution
 * order (C3, over classes of this file plus the cog bases), what each class body defines, and the
 * annotated fields a cog.BaseModel subclass gets (`__cog_fields__` in src/python/cog/types.py).
 */
import type { SyntaxNode } from '@lezer/common';
import { assignTargets, type ModuleScope } from './module-scope.js';
import { childrenOf, quote, schemaError, textOf } from './source.js';

/** A class in an MRO: one of this file's, or an imported/builtin one known by its dotted name. */
export type ClassRef = { kind: 'local'; node: SyntaxNode; name: string } | { kind: 'external'; name: string };

/** What the runtime's own classes contribute to an MRO (src/python/cog/predictor.py, types.py). */
const KNOWN_MRO: Record<string, string[]> = {
  object: ['object'],
  'cog.BasePredictor': ['cog.BasePredictor', 'object'],
  'cog.BaseRunner': ['cog.BaseRunner', 'cog.BasePredictor', 'object'],
  'cog.BaseModel': ['cog.BaseModel', 'object'],
};

/** Attributes the runtime's own classes define (beyond dunders), for `hasattr` and method lookup. */
export const KNOWN_ATTRIBUTES: Record<string, readonly string[]> = {
  object: [],
  'cog.BasePredictor': ['setup', 'predict', 'record_metric', 'scope'],
  'cog.BaseRunner': ['run'],
  'cog.BaseModel': ['dict', 'model_dump'],
};

const key = (c: ClassRef) => (c.kind === 'local' ? `L${c.node.from}` : `Q${c.name}`);

export function className(scope: ModuleScope, node: SyntaxNode): string {
  const n = node.getChild('VariableName');
  return n ? textOf(scope.src, n) : '?';
}

export function directBases(scope: ModuleScope, classNode: SyntaxNode): ClassRef[] {
  const args = classNode.getChild('ArgList');
  if (!args) return [];
  const out: ClassRef[] = [];
  const parts = childrenOf(args).filter((c) => !['(', ')', ','].includes(c.name));
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (parts[i + 1]?.name === 'AssignOp') {
      schemaError(
        scope.src,
        p,
        `class keyword ${quote(textOf(scope.src, p))} (e.g. a metaclass) needs Python to evaluate`,
      );
    }
    const r = scope.resolve(p);
    if (!r)
      schemaError(
        scope.src,
        p,
        `base class ${quote(textOf(scope.src, p))} is not defined or imported in this file`,
      );
    if (r.kind === 'class') {
      if (r.decorated)
        schemaError(
          scope.src,
          p,
          `base class ${quote(textOf(scope.src, p))} is decorated; decorators need Python`,
        );
      out.push({ kind: 'local', node: r.node, name: className(scope, r.node) });
    } else if (r.kind === 'qualified') {
      out.push({ kind: 'external', name: r.name });
    } else {
      schemaError(scope.src, p, `base class ${quote(textOf(scope.src, p))} is computed at run time`);
    }
  }
  return out;
}

/** C3 linearization, as Python computes `__mro__`. */
export function mro(scope: ModuleScope, cls: ClassRef, seen: string[] = []): ClassRef[] {
  if (cls.kind === 'external') {
    return (KNOWN_MRO[cls.name] ?? [cls.name, 'object']).map((name) => ({ kind: 'external', name }));
  }
  if (seen.includes(key(cls))) schemaError(scope.src, cls.node, `class ${cls.name} inherits from itself`);
  const bases = directBases(scope, cls.node);
  const seqs = [...bases.map((b) => mro(scope, b, [...seen, key(cls)])), bases].map((s) => [...s]);
  if (!bases.length) seqs.push([{ kind: 'external', name: 'object' }]);
  const out: ClassRef[] = [cls];
  for (;;) {
    const live = seqs.filter((s) => s.length > 0);
    if (!live.length) return out;
    const head = live
      .map((s) => s[0]!)
      .find((h) => !live.some((s) => s.slice(1).some((x) => key(x) === key(h))));
    if (!head)
      schemaError(scope.src, cls.node, `class ${cls.name} has no consistent method resolution order`);
    out.push(head);
    for (const s of live) if (key(s[0]!) === key(head)) s.shift();
  }
}

export interface ClassBody {
  /** Names bound directly in the class body: methods, assignments, annotated names with a value. */
  attributes: Map<string, { node: SyntaxNode; def?: SyntaxNode; decorators: SyntaxNode[] }>;
  /** `name: T` / `name: T = v` in source order (what `__annotations__` holds). */
  annotations: Array<{ name: string; annotation: SyntaxNode; node: SyntaxNode }>;
  /** Statements whose effect on the class needs Python (if/for/try/with... in the body). */
  conditional: SyntaxNode[];
}

const bodies = new WeakMap<ModuleScope, Map<number, ClassBody>>();

/** What a class body defines (memoized per file: model schemas ask for every field). */
export function classBody(scope: ModuleScope, classNode: SyntaxNode): ClassBody {
  let cache = bodies.get(scope);
  if (!cache) {
    cache = new Map();
    bodies.set(scope, cache);
  }
  const hit = cache.get(classNode.from);
  if (hit) return hit;
  const body = readClassBody(scope, classNode);
  cache.set(classNode.from, body);
  return body;
}

function readClassBody(scope: ModuleScope, classNode: SyntaxNode): ClassBody {
  const src = scope.src;
  const body: ClassBody = { attributes: new Map(), annotations: [], conditional: [] };
  const stmts = classNode.getChild('Body');
  for (const stmt of stmts ? childrenOf(stmts) : []) {
    let def = stmt;
    let decorators: SyntaxNode[] = [];
    if (stmt.name === 'DecoratedStatement') {
      decorators = stmt.getChildren('Decorator');
      def =
        childrenOf(stmt).find((c) => c.name === 'FunctionDefinition' || c.name === 'ClassDefinition') ?? stmt;
    }
    if (def.name === 'FunctionDefinition' || def.name === 'ClassDefinition') {
      const n = def.getChild('VariableName');
      if (n) body.attributes.set(textOf(src, n), { node: stmt, def, decorators });
    } else if (stmt.name === 'AssignStatement' || stmt.name === 'UpdateStatement') {
      const parts = childrenOf(stmt);
      const typeDef = parts[1]?.name === 'TypeDef' ? parts[1] : undefined;
      if (typeDef && parts[0]?.name === 'VariableName') {
        const annotation = childrenOf(typeDef).find((c) => c.name !== ':');
        if (annotation) body.annotations.push({ name: textOf(src, parts[0]), annotation, node: stmt });
        if (!parts.some((c) => c.name === 'AssignOp')) continue;
      }
      for (const t of assignTargets(stmt))
        body.attributes.set(textOf(src, t), { node: stmt, decorators: [] });
    } else if (stmt.name === 'ImportStatement') {
      body.conditional.push(stmt);
    } else if (
      /Statement$/.test(stmt.name) &&
      !['ExpressionStatement', 'PassStatement'].includes(stmt.name)
    ) {
      body.conditional.push(stmt);
    }
  }
  return body;
}

export type ClassMember = ClassBody['attributes'] extends Map<string, infer V> ? V : never;

/**
 * The first class in `order` that defines `name`, as `getattr(instance, name)` would find it.
 * `at` is where to point when an imported base class hides the answer.
 */
export function findAttribute(
  scope: ModuleScope,
  order: ClassRef[],
  name: string,
  at: SyntaxNode,
): { owner: ClassRef; member?: ClassMember } | undefined {
  for (const cls of order) {
    if (cls.kind === 'external') {
      const known = KNOWN_ATTRIBUTES[cls.name];
      if (!known) {
        schemaError(
          scope.src,
          at,
          `cannot tell whether ${cls.name} (a base class from another module) defines ${name}: that needs Python`,
        );
      }
      if (known.includes(name)) return { owner: cls };
      continue;
    }
    const body = classBody(scope, cls.node);
    if (body.conditional.length) {
      const stmt = body.conditional[0]!;
      schemaError(
        scope.src,
        stmt,
        `class ${cls.name} has a ${stmt.name} in its body, so what it defines needs Python`,
      );
    }
    const hit = body.attributes.get(name);
    if (hit) return { owner: cls, member: hit };
  }
  return undefined;
}
