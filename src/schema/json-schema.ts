/**
 * Specs and Input() facts -> the `Input`/`Output` component schemas, key for key and in the same
 * key order as src/python/cog/schema.py (base_schema, model_schema, input_schema, output_schema).
 */
import type { SyntaxNode } from '@lezer/common';
import { type AnnotationContext, type Spec, specOf } from './annotations.js';
import { type ClassRef, classBody, KNOWN_ATTRIBUTES, mro } from './classes.js';
import { type Json, type PyValue, toJson, truthy } from './literals.js';
import type { ModuleScope } from './module-scope.js';
import { schemaError } from './source.js';

export type JsonObject = { [k: string]: Json };

/** An evaluated argument and where it was written. */
export interface Located {
  value: PyValue;
  node: SyntaxNode;
}

/** What `Input(...)` (or a plain default) says about a parameter; absent keys were not given. */
export interface FieldInfo {
  /** undefined: no default (required unless Optional). */
  default?: Located;
  description?: Located;
  ge?: Located;
  le?: Located;
  min_length?: Located;
  max_length?: Located;
  regex?: Located;
  choices?: Located;
  deprecated?: Located;
}

export interface InputParam {
  name: string;
  spec: Spec;
  info: FieldInfo;
}

/**
 * A list's items: each Secret in a list is marked like a Secret parameter (writeOnly, x-cog-secret),
 * so a server masks every element when it echoes the input, as Cog's Secret schema does.
 */
function itemSchema(schema: JsonObject, item: Spec): JsonObject {
  return item.kind === 'secret' ? { ...schema, writeOnly: true, 'x-cog-secret': true } : schema;
}

/** "num_outputs" -> "Num Outputs" (schema.py title_of). */
export function titleOf(name: string): string {
  return name
    .split('_')
    .filter((w) => w.length > 0)
    .map((w) => {
      const [first = '', ...rest] = Array.from(w);
      return first.toUpperCase() + rest.join('');
    })
    .join(' ');
}

function jsonType(v: PyValue): string {
  if (v.t === 'bool') return 'boolean';
  if (v.t === 'int') return 'integer';
  if (v.t === 'float') return 'number';
  return 'string';
}

export function baseSchema(scope: ModuleScope, spec: Spec, stack: SyntaxNode[] = []): JsonObject {
  switch (spec.kind) {
    case 'str':
      return { type: 'string' };
    case 'int':
      return { type: 'integer' };
    case 'float':
      return { type: 'number' };
    case 'bool':
      return { type: 'boolean' };
    case 'dict':
      return { type: 'object' };
    case 'path':
    case 'file':
      return { type: 'string', format: 'uri' };
    case 'secret':
      return { type: 'string', format: 'password' };
    case 'list':
      return { type: 'array', items: itemSchema(baseSchema(scope, spec.item, stack), spec.item) };
    case 'literal':
      return {
        type: jsonType(spec.values[0]!),
        enum: spec.values.map((v) => toJson(scope.src, stack[0] ?? 0, v, 'Literal value') as Json),
      } as JsonObject;
    case 'model':
      return modelSchema(scope, spec.model, spec.name, stack);
    case 'iterator': {
      const out: JsonObject = {
        type: 'array',
        items: baseSchema(scope, spec.item, stack),
        'x-cog-array-type': 'iterator',
      };
      if (spec.concatenate) out['x-cog-array-display'] = 'concatenate';
      return out;
    }
    default:
      return {};
  }
}

function modelSchema(scope: ModuleScope, node: SyntaxNode, name: string, stack: SyntaxNode[]): JsonObject {
  // lezer may hand out a fresh node object per access: compare positions, not identity.
  if (stack.some((n) => n.from === node.from))
    schemaError(scope.src, node, `class ${name} contains itself; Cog cannot describe a recursive output`);
  const order = mro(scope, { kind: 'local', node, name });
  const annotations = new Map<string, SyntaxNode>();
  const fields: string[] = [];
  for (const cls of [...order].reverse()) {
    if (cls.kind === 'external') {
      if (!(cls.name in KNOWN_ATTRIBUTES)) {
        schemaError(
          scope.src,
          node,
          `class ${name} derives from ${cls.name}, whose fields need Python to know`,
        );
      }
      continue;
    }
    const body = classBody(scope, cls.node);
    if (body.conditional.length) {
      const stmt = body.conditional[0]!;
      schemaError(
        scope.src,
        stmt,
        `class ${cls.name} has a ${stmt.name} in its body, so its fields need Python`,
      );
    }
    for (const a of body.annotations) {
      annotations.set(a.name, a.annotation);
      if (!fields.includes(a.name) && !a.name.startsWith('_')) fields.push(a.name);
    }
  }
  const hasAttr = (field: string) =>
    order.some((c: ClassRef) =>
      c.kind === 'external'
        ? KNOWN_ATTRIBUTES[c.name]?.includes(field)
        : classBody(scope, c.node).attributes.has(field),
    );
  const props: JsonObject = {};
  const required: string[] = [];
  fields.forEach((field, i) => {
    const ctx: AnnotationContext = { scope, where: `${name}.${field}` };
    const spec = specOf(ctx, annotations.get(field));
    const prop: JsonObject = { title: titleOf(field), ...baseSchema(scope, spec, [node, ...stack]) };
    if (spec.optional) prop.nullable = true;
    prop['x-order'] = i;
    props[field] = prop;
    if (!spec.optional && !hasAttr(field)) required.push(field);
  });
  const out: JsonObject = { type: 'object', properties: props };
  if (required.length) out.required = required;
  return out;
}

const given = (l: Located | undefined): l is Located => l !== undefined && l.value.t !== 'none';

export function inputSchema(scope: ModuleScope, params: InputParam[], title: string): JsonObject {
  const src = scope.src;
  const props: JsonObject = {};
  const required: string[] = [];
  params.forEach(({ name, spec, info }, order) => {
    const json = (l: Located, what: string, top = false) =>
      toJson(src, l.node, l.value, `parameter '${name}': ${what}`, top);
    const prop: JsonObject = { title: titleOf(name), ...baseSchema(scope, spec) };
    if (given(info.choices)) prop.enum = choicesOf(scope, name, info.choices);
    if (given(info.default)) prop.default = json(info.default, 'default', true);
    if (given(info.description)) prop.description = json(info.description, 'description');
    if (given(info.ge)) prop.minimum = json(info.ge, 'ge');
    if (given(info.le)) prop.maximum = json(info.le, 'le');
    const isArray = spec.kind === 'list';
    if (given(info.min_length))
      prop[isArray ? 'minItems' : 'minLength'] = json(info.min_length, 'min_length');
    if (given(info.max_length))
      prop[isArray ? 'maxItems' : 'maxLength'] = json(info.max_length, 'max_length');
    if (given(info.regex)) prop.pattern = json(info.regex, 'regex');
    if (spec.optional) prop.nullable = true;
    if (info.deprecated && truthy(info.deprecated.value)) prop.deprecated = true;
    if (spec.kind === 'secret') {
      prop.writeOnly = true;
      prop['x-cog-secret'] = true;
    }
    prop['x-order'] = order;
    props[name] = prop;
    if (info.default === undefined && !spec.optional) required.push(name);
  });
  const out: JsonObject = { title, type: 'object', properties: props };
  if (required.length) out.required = required;
  return out;
}

/** `list(info.choices)`: a list/tuple as is, a str as its characters, a dict as its keys. */
function choicesOf(scope: ModuleScope, name: string, choices: Located): Json[] {
  const v = choices.value;
  const what = `parameter '${name}': choices`;
  if (v.t === 'list' || v.t === 'tuple') return v.items.map((x) => toJson(scope.src, choices.node, x, what));
  if (v.t === 'str') return Array.from(v.v);
  if (v.t === 'dict') return v.entries.map(([k]) => toJson(scope.src, choices.node, k, what));
  return schemaError(scope.src, choices.node, `${what} must be a list of values`);
}

export function outputSchema(
  scope: ModuleScope,
  spec: Spec,
  title: string,
  at: SyntaxNode | number,
): JsonObject {
  if (spec.optional) schemaError(scope.src, at, 'return type: Optional[...] is not supported as an output');
  const out: JsonObject = { title, ...baseSchema(scope, spec) };
  if (spec.kind === 'secret') out['x-cog-secret'] = true;
  return out;
}
