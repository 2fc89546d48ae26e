import { Ajv, type ErrorObject } from 'ajv';
import type { SourceLocator } from './locate.js';
import { type ConfigProblem, closest, describeValue, type FieldPath, formatPath } from './problems.js';
import { buildKeys, cogYamlSchema, topLevelKeys } from './schema.js';

// validateSchema off: checking our own static schema against the JSON Schema meta-schema cost ~20 ms
// of every cogts run; test/config/schema.test.ts checks it once instead.
const ajv = new Ajv({ allErrors: true, verbose: true, strict: false, validateSchema: false });
const validate = ajv.compile(cogYamlSchema);

/**
 * Validates the parsed document against the schema and turns ajv's errors into located problems
 * that say what was expected. ajv reports one error per failing schema branch; the union branches
 * (`run` items, weight sources) are folded into one message so the user sees one line per mistake.
 */
export function schemaProblems(doc: unknown, file: string, locator: () => SourceLocator): ConfigProblem[] {
  if (validate(doc)) return [];
  const errors = validate.errors ?? [];
  const problems: ConfigProblem[] = [];
  const seen = new Set<string>();
  for (const e of foldUnions(errors)) {
    const p = toProblem(e, errors, file, locator());
    const key = `${p.line}:${p.column}:${p.message}`;
    if (seen.has(key)) continue;
    seen.add(key);
    problems.push(p);
  }
  return problems;
}

function pathOf(instancePath: string): FieldPath {
  if (instancePath === '') return [];
  return instancePath
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/**
 * For anyOf/oneOf: when a branch accepts the value's type but not its contents (e.g.
 * `run: [{command: 5}]`), that branch's errors are the useful ones and the other branches' "wrong
 * type" errors are dropped; otherwise the branches' type errors merge into one "expected A or B".
 */
function foldUnions(errors: ErrorObject[]): ErrorObject[] {
  const unions = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf');
  const drop = new Set<ErrorObject>();
  for (const u of unions) {
    const branch = errors.filter(
      (e) =>
        e !== u && e.schemaPath.startsWith(`${u.schemaPath}/`) && e.instancePath.startsWith(u.instancePath),
    );
    // A branch whose type fits the value (a mapping given to "string or mapping") failed on its
    // contents: its errors say what is wrong; the other branches' "wrong type" errors do not.
    const byBranch = new Map<string, ErrorObject[]>();
    for (const e of branch) {
      const id = e.schemaPath.slice(u.schemaPath.length + 1).split('/')[0]!;
      byBranch.set(id, [...(byBranch.get(id) ?? []), e]);
    }
    const fitting = [...byBranch.values()].filter(
      (errs) => !errs.some((e) => e.keyword === 'type' && e.instancePath === u.instancePath),
    );
    if (fitting.length > 0) {
      drop.add(u);
      for (const e of branch) if (!fitting.some((f) => f.includes(e))) drop.add(e);
    } else {
      for (const e of branch) drop.add(e);
    }
  }
  return errors.filter((e) => !drop.has(e));
}

const typeWords: Record<string, string> = {
  boolean: 'true or false',
  string: 'a string',
  number: 'a number',
  integer: 'a whole number',
  array: 'a list',
  object: 'a mapping',
  null: 'nothing',
};

function expectedTypes(types: string | string[]): string {
  const list = (Array.isArray(types) ? types : [types]).filter((t) => t !== 'null');
  return list.map((t) => typeWords[t] ?? t).join(' or ');
}

function toProblem(e: ErrorObject, all: ErrorObject[], file: string, loc: SourceLocator): ConfigProblem {
  const path = pathOf(e.instancePath);
  const at = (p: FieldPath, atKey = false) => ({ file, ...loc.locate(p, atKey) });
  switch (e.keyword) {
    case 'additionalProperties': {
      const key = String((e.params as { additionalProperty: string }).additionalProperty);
      const full = [...path, key];
      const known =
        path.length === 0
          ? topLevelKeys
          : path[0] === 'build'
            ? buildKeys
            : Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      let suggestion: string | undefined;
      const near = closest(key, known as readonly string[]);
      if (near) suggestion = `did you mean ${near}?`;
      else if (path.length === 0 && (buildKeys as readonly string[]).includes(key))
        suggestion = `${key} belongs under build: (build.${key})`;
      else suggestion = `known keys here: ${known.join(', ')}`;
      return { ...at(full, true), field: formatPath(full), message: `unknown key "${key}"`, suggestion };
    }
    case 'type': {
      const expected = expectedTypes((e.params as { type: string | string[] }).type);
      const got = describeValue(e.data);
      const p: ConfigProblem = {
        ...at(path),
        field: formatPath(path),
        message: `expected ${expected}, got ${got}`,
      };
      if (expected === 'true or false' && /^(true|false)$/i.test(String(e.data))) {
        p.suggestion = `write ${String(path.at(-1))}: ${String(e.data).toLowerCase()} without quotes`;
      } else if (expected.startsWith('a list') && typeof e.data === 'string') {
        p.suggestion = `write it as a list: ["${e.data}"]`;
      } else if (expected === 'a string' && typeof e.data === 'number') {
        p.suggestion = `quote it: "${e.data}"`;
      }
      return p;
    }
    case 'anyOf':
    case 'oneOf': {
      // The branches' own type errors were folded away; name the shapes they accept.
      const branchTypes = all
        .filter((b) => b.keyword === 'type' && b.schemaPath.startsWith(`${e.schemaPath}/`))
        .map((b) => (b.params as { type: string }).type);
      const expected = expectedTypes([...new Set(branchTypes.flat())]);
      return {
        ...at(path),
        field: formatPath(path),
        message: `expected ${expected || 'a different shape'}, got ${describeValue(e.data)}`,
      };
    }
    case 'required': {
      const missing = (e.params as { missingProperty: string }).missingProperty;
      return {
        ...at(path),
        field: formatPath([...path, missing]),
        message: `missing required key "${missing}"`,
      };
    }
    case 'enum': {
      const allowed = (e.params as { allowedValues: unknown[] }).allowedValues;
      return {
        ...at(path),
        field: formatPath(path),
        message: `expected one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}, got ${describeValue(e.data)}`,
      };
    }
    case 'pattern': {
      const isEnv = path[0] === 'environment';
      const isWeightName = path[0] === 'weights' && path.at(-1) === 'name';
      return {
        ...at(path),
        field: formatPath(path),
        message: isEnv
          ? `expected NAME=value (NAME: letters, digits, _; not starting with a digit), got ${describeValue(e.data)}`
          : isWeightName
            ? `expected a lowercase name of letters/digits separated by . _ or -, got ${describeValue(e.data)}`
            : `${describeValue(e.data)} does not match ${(e.params as { pattern: string }).pattern}`,
      };
    }
    case 'not':
      // Point at `predict:`, the key to delete.
      return {
        ...at(['predict'], true),
        field: 'predict',
        message: 'both run and predict are set; predict is the older name of run',
        suggestion: 'delete predict: and keep run:',
      };
    case 'minItems':
      return {
        ...at(path),
        field: formatPath(path),
        message: 'expected at least one entry, got an empty list',
      };
    default:
      return { ...at(path), field: formatPath(path), message: e.message ?? `fails the ${e.keyword} rule` };
  }
}
