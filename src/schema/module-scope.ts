/**
 * What each module-level name of predict.py refers to, found from import statements, class and
 * function definitions and assignments — the globals `typing.get_type_hints` resolves names in.
 * Names that the file binds in two different ways (other than the common try/except import
 * fallback to the same thing) are ambiguous without running it, and reported as such.
 */
import type { SyntaxNode } from '@lezer/common';
import { childrenOf, type PySource, quote, schemaError, textOf } from './source.js';

export type Binding =
  /** `import typing as t` (t -> "typing"), `import collections.abc` (collections -> "collections"). */
  | { kind: 'module'; qualified: string; node: SyntaxNode }
  /** `from typing import List as L` (L -> "typing.List"). */
  | { kind: 'imported'; qualified: string; node: SyntaxNode }
  | { kind: 'class'; node: SyntaxNode; decorated: boolean }
  | { kind: 'function'; node: SyntaxNode; decorators: SyntaxNode[] }
  /** Assignment or anything else that needs execution to know. */
  | { kind: 'value'; node: SyntaxNode };

/** What a (dotted) name in an annotation means. */
export type Resolved =
  | { kind: 'qualified'; name: string }
  | { kind: 'class'; node: SyntaxNode; decorated: boolean }
  | { kind: 'function'; node: SyntaxNode; decorators: SyntaxNode[] }
  | { kind: 'value'; node: SyntaxNode };

/** Cog's SDK lives in `cog`; its submodules re-export the same objects. */
const MODULE_ALIASES: Array<[string, string]> = [
  ['cog.types.', 'cog.'],
  ['cog.predictor.', 'cog.'],
  ['typing_extensions.', 'typing.'],
  ['builtins.', ''],
];

const BUILTINS = new Set(['str', 'int', 'float', 'bool', 'dict', 'list', 'bytes', 'object', 'tuple', 'set']);
const BUILTIN_DECORATORS = new Set(['staticmethod', 'classmethod', 'property']);

function canonical(name: string): string {
  for (const [from, to] of MODULE_ALIASES) if (name.startsWith(from)) return to + name.slice(from.length);
  return name;
}

export class ModuleScope {
  private readonly bindings = new Map<string, Binding[]>();
  readonly futureAnnotations: boolean;

  constructor(readonly src: PySource) {
    let future = false;
    const visit = (stmts: SyntaxNode[]) => {
      for (const stmt of stmts) {
        if (stmt.name === 'ImportStatement') {
          const text = textOf(src, stmt);
          if (/^from\s+__future__\s+import\b/.test(text) && /\bannotations\b/.test(text)) future = true;
          this.addImport(stmt);
        } else if (stmt.name === 'ClassDefinition' || stmt.name === 'FunctionDefinition') {
          this.addDef(stmt, []);
        } else if (stmt.name === 'DecoratedStatement') {
          const def = childrenOf(stmt).find(
            (c) => c.name === 'ClassDefinition' || c.name === 'FunctionDefinition',
          );
          if (def) this.addDef(def, stmt.getChildren('Decorator'));
        } else if (stmt.name === 'AssignStatement' || stmt.name === 'UpdateStatement') {
          for (const target of assignTargets(stmt))
            this.add(textOf(src, target), { kind: 'value', node: stmt });
        } else if (
          ['IfStatement', 'TryStatement', 'WithStatement', 'ForStatement', 'WhileStatement'].includes(
            stmt.name,
          )
        ) {
          // Both branches may bind a name (`try: from typing import X / except: from typing_extensions ...`).
          for (const body of stmt.getChildren('Body')) visit(childrenOf(body));
          for (const target of loopAndWithTargets(stmt))
            this.add(textOf(src, target), { kind: 'value', node: stmt });
        }
      }
    };
    visit(childrenOf(src.tree.topNode));
    this.futureAnnotations = future;
  }

  private add(name: string, b: Binding): void {
    const list = this.bindings.get(name);
    if (list) list.push(b);
    else this.bindings.set(name, [b]);
  }

  private addDef(def: SyntaxNode, decorators: SyntaxNode[]): void {
    const nameNode = def.getChild('VariableName');
    if (!nameNode) return;
    const name = textOf(this.src, nameNode);
    if (def.name === 'ClassDefinition')
      this.add(name, { kind: 'class', node: def, decorated: decorators.length > 0 });
    else this.add(name, { kind: 'function', node: def, decorators });
  }

  private addImport(stmt: SyntaxNode): void {
    const parts = childrenOf(stmt);
    if (parts[0]?.name === 'from') {
      const importAt = parts.findIndex((c) => c.name === 'import');
      const moduleText = parts
        .slice(1, importAt)
        .map((c) => textOf(this.src, c))
        .join('');
      const names = parts.slice(importAt + 1).filter((c) => c.name !== '(' && c.name !== ')');
      for (let i = 0; i < names.length; i++) {
        const n = names[i]!;
        if (n.name === '*') {
          // A star import can bind any name: only a problem if an annotation uses one of them.
          this.add('*', { kind: 'value', node: stmt });
          continue;
        }
        if (n.name !== 'VariableName') continue;
        const orig = textOf(this.src, n);
        let local = orig;
        if (names[i + 1]?.name === 'as' && names[i + 2]) {
          local = textOf(this.src, names[i + 2]!);
          i += 2;
        }
        if (moduleText.startsWith('.')) this.add(local, { kind: 'value', node: stmt });
        else this.add(local, { kind: 'imported', qualified: canonical(`${moduleText}.${orig}`), node: stmt });
      }
      return;
    }
    // import a.b.c [as d], e
    let dotted: string[] = [];
    for (let i = 1; i <= parts.length; i++) {
      const c = parts[i];
      if (!c || c.name === ',') {
        if (dotted.length) this.add(dotted[0]!, { kind: 'module', qualified: dotted[0]!, node: stmt });
        dotted = [];
      } else if (c.name === 'VariableName') {
        dotted.push(textOf(this.src, c));
      } else if (c.name === 'as') {
        const alias = parts[i + 1];
        if (alias)
          this.add(textOf(this.src, alias), { kind: 'module', qualified: dotted.join('.'), node: stmt });
        dotted = [];
        i++;
      }
    }
  }

  /** The single meaning of a module-level name, or an error naming the use and why. */
  lookup(name: string, use: SyntaxNode): Resolved | undefined {
    const list = this.bindings.get(name);
    if (!list) {
      if (this.bindings.has('*')) {
        schemaError(this.src, use, `${quote(name)} may come from a \`from ... import *\`; import it by name`);
      }
      return BUILTINS.has(name) || BUILTIN_DECORATORS.has(name) ? { kind: 'qualified', name } : undefined;
    }
    const meanings = list.map((b): Resolved => {
      if (b.kind === 'module' || b.kind === 'imported') return { kind: 'qualified', name: b.qualified };
      return b;
    });
    const first = meanings[0]!;
    const same = meanings.every((m) =>
      m.kind === 'qualified' && first.kind === 'qualified' ? m.name === first.name : m === first,
    );
    if (!same) {
      schemaError(
        this.src,
        use,
        `${quote(name)} is bound more than once in ${this.src.displayPath}; which one applies needs Python to decide`,
      );
    }
    return first;
  }

  /** `t.List`, `cog.Path`, `collections.abc.Iterator`, `Output` -> what it names. */
  resolve(expr: SyntaxNode): Resolved | undefined {
    const dotted = dottedName(this.src, expr);
    if (!dotted) return undefined;
    const head = this.lookup(dotted[0]!, expr);
    if (!head) return undefined;
    if (dotted.length === 1) {
      return head.kind === 'qualified' ? { kind: 'qualified', name: canonical(head.name) } : head;
    }
    if (head.kind !== 'qualified') return { kind: 'value', node: expr };
    return { kind: 'qualified', name: canonical([head.name, ...dotted.slice(1)].join('.')) };
  }
}

/** ["a", "b", "c"] for `a.b.c`; undefined for anything that is not a plain dotted name. */
export function dottedName(src: PySource, node: SyntaxNode): string[] | undefined {
  if (node.name === 'VariableName') return [textOf(src, node)];
  if (node.name !== 'MemberExpression') return undefined;
  const parts = childrenOf(node);
  if (parts.length !== 3 || parts[1]?.name !== '.' || parts[2]?.name !== 'PropertyName') return undefined;
  const left = dottedName(src, parts[0]!);
  return left ? [...left, textOf(src, parts[2]!)] : undefined;
}

/** The names an assignment statement binds (`a = b = 1`, `a: int = 1`, `a, b = ...`). */
export function assignTargets(stmt: SyntaxNode): SyntaxNode[] {
  const parts = childrenOf(stmt);
  if (stmt.name === 'UpdateStatement') return parts[0]?.name === 'VariableName' ? [parts[0]] : [];
  const out: SyntaxNode[] = [];
  const lastAssign = parts.map((c) => c.name).lastIndexOf('AssignOp');
  const upTo = lastAssign === -1 ? parts.length : lastAssign;
  for (let i = 0; i < upTo; i++) {
    const c = parts[i]!;
    if (c.name === 'VariableName') out.push(c);
    else if (c.name === 'TupleExpression' || c.name === 'ArrayExpression')
      out.push(...c.getChildren('VariableName'));
  }
  return out;
}

/** `for a, b in ...` binds a and b; `with x as y` binds y. */
function loopAndWithTargets(stmt: SyntaxNode): SyntaxNode[] {
  const parts = childrenOf(stmt);
  if (stmt.name === 'ForStatement') {
    const inAt = parts.findIndex((c) => c.name === 'in');
    return parts.slice(0, inAt === -1 ? 0 : inAt).filter((c) => c.name === 'VariableName');
  }
  if (stmt.name === 'WithStatement') {
    return parts.filter((c, i) => c.name === 'VariableName' && parts[i - 1]?.name === 'as');
  }
  return [];
}
