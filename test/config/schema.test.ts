import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Ajv } from 'ajv';
import { cogYamlSchema } from '../../src/config/schema.js';
import { repoRoot } from '../helpers/paths.js';

// Cog's own schema (kept as a fact in compat/upstream/cog) is the yardstick: every document it
// accepts, ours must accept too.
const cogSchema = JSON.parse(
  readFileSync(join(repoRoot, 'compat/upstream/cog/config_schema_v1.0.json'), 'utf8'),
);
const ajv = new Ajv({ strict: false, allErrors: true });
const cog = ajv.compile(cogSchema);
const ours = ajv.compile(cogYamlSchema);

const acceptedByCog: unknown[] = [
  { build: { python_version: '3.11' } },
  { build: { python_version: 3.1, gpu: true, cuda: '12.1', cudnn: '8' } },
  {
    build: {
      python_version: '3.12',
      python_packages: null,
      system_packages: null,
      run: null,
      pre_install: null,
    },
  },
  {
    build: {
      python_version: '3.11',
      python_packages: ['torch==2.1.0'],
      python_requirements: 'r.txt',
      sdk_version: '0.18.0',
    },
  },
  {
    build: {
      python_version: '3.11',
      run: ['echo', { command: 'x', mounts: [{ type: 'secret', id: 'a', target: '/t' }] }],
    },
  },
  { build: { python_version: '3.11', run: [{ command: 'x', extra: 1 }] } },
  {
    build: { python_version: '3.11' },
    predict: 'p.py:P',
    train: 't.py:t',
    image: 'r8.im/a/b',
    model: 'r8.im/a/b',
  },
  { build: { python_version: '3.11' }, run: 'run.py:Runner' },
  { build: { python_version: '3.11' }, concurrency: { max: 2, default_target: 1 } },
  { build: { python_version: '3.11' }, environment: ['A=1', '_B=', 'C=x=y'] },
  { build: { python_version: '3.11' }, environment: null, weights: null },
  {
    build: { python_version: '3.11' },
    weights: [
      { name: 'base', target: '/w', source: { uri: 'hf://o/m', include: ['*.bin'], exclude: ['x'] } },
      { name: 'lora.v1', target: '/l', source: [{ uri: 'file://./l' }, { uri: 'https://x/y' }] },
    ],
  },
  {},
];

test("every document Cog's schema accepts, ours accepts", () => {
  for (const doc of acceptedByCog) {
    assert.ok(
      cog(doc),
      `fixture should be valid for Cog: ${JSON.stringify(doc)} ${JSON.stringify(cog.errors)}`,
    );
    assert.ok(ours(doc), `cogts rejects ${JSON.stringify(doc)}: ${JSON.stringify(ours.errors)}`);
  }
});

test('ours still rejects what Cog rejects structurally (unknown keys, wrong types, run+predict)', () => {
  const rejected: unknown[] = [
    { build: { python_version: '3.11', pyhton: 1 } },
    { build: { python_version: '3.11', gpu: 'maybe' } },
    { buidl: {} },
    { build: { python_version: '3.11' }, run: 'a.py:A', predict: 'a.py:A' },
    { build: { python_version: '3.11' }, concurrency: { max: 'x' } },
    { build: { python_version: '3.11' }, environment: ['1A=x'] },
    { build: { python_version: '3.11' }, weights: [{ name: 'X Y', target: '/w', source: { uri: 'u' } }] },
  ];
  for (const doc of rejected) {
    assert.equal(cog(doc), false, JSON.stringify(doc));
    assert.equal(ours(doc), false, JSON.stringify(doc));
  }
});

test('the only relaxation: build.python_version may be omitted (cogts picks a default)', () => {
  assert.equal(cog({ build: { gpu: false } }), false);
  assert.equal(ours({ build: { gpu: false } }), true);
});

test('the cog.yaml schema is a valid JSON Schema (the loader skips this check at run time)', () => {
  const ajv = new Ajv({ strict: false });
  assert.equal(ajv.validateSchema(cogYamlSchema), true, JSON.stringify(ajv.errors));
});
