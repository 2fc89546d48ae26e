/**
 * JSON Schema (draft-07) for cog.yaml. It accepts everything Cog's own schema v1.0 accepts
 * (../shared/reference/cog-compat/config_schema_v1.0.json) and nothing it would reject structurally,
 * except that `build.python_version` is optional here (cogts picks a default). Value rules that
 * need more than structure (supported Python versions, files that must exist, the environment
 * deny-list) live in semantics.ts, so this file stays a faithful structural superset.
 *
 * Kept as a TypeScript constant rather than a .json file so it ships inside dist/ with the code.
 */

const stringList = { type: ['array', 'null'], items: { type: 'string' } } as const;

const weightSource = {
  type: 'object',
  required: ['uri'],
  additionalProperties: false,
  properties: {
    uri: { type: 'string' },
    include: { type: 'array', items: { type: 'string' } },
    exclude: { type: 'array', items: { type: 'string' } },
  },
} as const;

export const buildKeys = [
  'gpu',
  'python_version',
  'python_packages',
  'python_requirements',
  'system_packages',
  'cuda',
  'cudnn',
  'run',
  'pre_install',
  'sdk_version',
] as const;

export const topLevelKeys = [
  'build',
  'image',
  'model',
  'run',
  'predict',
  'train',
  'concurrency',
  'environment',
  'weights',
] as const;

export const cogYamlSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'cog.yaml (cogts)',
  type: 'object',
  additionalProperties: false,
  // Cog: `run` is the newer name of `predict`; naming both is ambiguous.
  not: { required: ['run', 'predict'] },
  properties: {
    build: {
      type: ['object', 'null'],
      additionalProperties: false,
      properties: {
        gpu: { type: 'boolean' },
        python_version: { type: ['string', 'number'] },
        python_packages: stringList,
        python_requirements: { type: 'string' },
        system_packages: stringList,
        cuda: { type: 'string' },
        cudnn: { type: 'string' },
        pre_install: stringList,
        sdk_version: { type: 'string' },
        run: {
          type: ['array', 'null'],
          items: {
            anyOf: [
              { type: 'string' },
              {
                type: 'object',
                required: ['command'],
                properties: {
                  command: { type: 'string' },
                  mounts: {
                    type: 'array',
                    items: {
                      type: 'object',
                      required: ['type', 'id', 'target'],
                      properties: {
                        type: { type: 'string', enum: ['secret'] },
                        id: { type: 'string' },
                        target: { type: 'string' },
                      },
                    },
                  },
                },
              },
            ],
          },
        },
      },
    },
    image: { type: 'string' },
    model: { type: 'string' },
    run: { type: 'string' },
    predict: { type: 'string' },
    train: { type: 'string' },
    concurrency: {
      type: 'object',
      required: ['max'],
      additionalProperties: false,
      properties: {
        max: { type: 'integer' },
        default_target: { type: 'integer' },
      },
    },
    environment: {
      type: ['array', 'null'],
      items: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*=.*$' },
    },
    weights: {
      type: ['array', 'null'],
      items: {
        type: 'object',
        required: ['name', 'target', 'source'],
        additionalProperties: false,
        properties: {
          name: { type: 'string', pattern: '^[a-z0-9]+([._-][a-z0-9]+)*$' },
          target: { type: 'string' },
          source: {
            oneOf: [weightSource, { type: 'array', items: weightSource, minItems: 1 }],
          },
        },
      },
    },
  },
} as const;
