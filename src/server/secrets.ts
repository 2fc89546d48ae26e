/**
 * Secret inputs, masked when a prediction echoes its input (responses, webhooks, logs of the
 * request), as Cog does: Secret fields, and each Secret of a list[Secret].
 */
export type SecretFields = ReadonlyMap<string, 'value' | 'list'>;

const MASK = '**********';

/** The fields of an Input schema that carry Cog's Secret mark, on the field or on a list's items. */
export function secretFieldsOf(schema: Record<string, unknown>): SecretFields {
  const props = (schema.properties ?? {}) as Record<string, Record<string, unknown>>;
  const out = new Map<string, 'value' | 'list'>();
  for (const [k, p] of Object.entries(props)) {
    if (p?.['x-cog-secret'] === true) out.set(k, 'value');
    else if ((p?.items as Record<string, unknown> | undefined)?.['x-cog-secret'] === true) out.set(k, 'list');
  }
  return out;
}

/** A copy of `input` with its secrets masked (the same object when there are none). */
export function maskSecrets(input: Record<string, unknown>, fields: SecretFields): Record<string, unknown> {
  if (fields.size === 0) return input;
  const shown = { ...input };
  for (const [k, how] of fields) {
    const v = shown[k];
    if (v == null) continue;
    shown[k] = how === 'list' && Array.isArray(v) ? v.map((x) => (x == null ? x : MASK)) : MASK;
  }
  return shown;
}
