import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';

/** One entry of Cog's 422 body: `{"detail": [{"loc": ["body","input",FIELD], "msg", "type"}]}`. */
export interface ValidationIssue {
  loc: (string | number)[];
  msg: string;
  type: string;
}

export type InputValidator = (input: unknown) => ValidationIssue[];

/** Annotation-only and extension keys that ajv need not see. */
function stripForAjv(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripForAjv);
  if (typeof v !== 'object' || v === null) return v;
  const out: Record<string, unknown> = {};
  for (const [k, val] of Object.entries(v)) {
    if (k.startsWith('x-') || k === 'title' || k === 'description' || k === 'deprecated') continue;
    // enum/default hold data, not schemas: copy them untouched.
    out[k] = k === 'enum' || k === 'default' ? val : stripForAjv(val);
  }
  return out;
}

const TYPE_NAMES: Record<string, string> = {
  type: 'type_error',
  minimum: 'greater_than_equal',
  maximum: 'less_than_equal',
  minLength: 'string_too_short',
  maxLength: 'string_too_long',
  minItems: 'too_short',
  maxItems: 'too_long',
  pattern: 'string_pattern_mismatch',
  enum: 'enum',
  required: 'missing',
};

function issueOf(e: ErrorObject, root: string[]): ValidationIssue {
  const path = e.instancePath
    .split('/')
    .slice(1)
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p.replace(/~1/g, '/').replace(/~0/g, '~')));
  if (e.keyword === 'required') {
    const field = (e.params as { missingProperty: string }).missingProperty;
    return { loc: [...root, ...path, field], msg: 'Field required', type: 'missing' };
  }
  let msg = e.message ?? 'invalid';
  if (e.keyword === 'enum') {
    msg = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  }
  return { loc: [...root, ...path], msg, type: TYPE_NAMES[e.keyword] ?? e.keyword };
}

/** Compiles an `Input` component schema into a function listing every problem (none = valid). */
export function compileInputValidator(
  schema: Record<string, unknown>,
  root = ['body', 'input'],
): InputValidator {
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false, useDefaults: false });
  const validate: ValidateFunction = ajv.compile(stripForAjv(schema) as object);
  return (input) => {
    if (typeof input !== 'object' || input === null || Array.isArray(input)) {
      return [{ loc: root, msg: 'Input should be a valid dictionary', type: 'dict_type' }];
    }
    if (validate(input)) return [];
    const seen = new Set<string>();
    const issues: ValidationIssue[] = [];
    for (const e of validate.errors ?? []) {
      const issue = issueOf(e, root);
      const key = JSON.stringify(issue);
      if (!seen.has(key)) {
        seen.add(key);
        issues.push(issue);
      }
    }
    return issues;
  };
}
