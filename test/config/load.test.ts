import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig, parseConfig } from '../../src/config/load.js';
import { topLevelNames } from '../../src/config/semantics.js';

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'cogts-config-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

const predictor =
  'from cog import BasePredictor\n\nclass Predictor(BasePredictor):\n    def predict(self) -> str:\n        return "x"\n';

test('a full cog.yaml normalises into Config', async () => {
  const dir = project({
    'predict.py': predictor,
    'requirements.txt': 'torch==2.1.0\n',
    'cog.yaml': [
      'build:',
      '  gpu: yes',
      '  python_version: 3.10',
      '  python_packages: ["pillow==10.0.0"]',
      '  python_requirements: requirements.txt',
      '  system_packages: [libgl1, ffmpeg]',
      '  cuda: "11.8"',
      '  run:',
      '    - echo one',
      '    - command: echo two',
      '      mounts: [{type: secret, id: tok, target: /run/tok}]',
      'run: "predict.py:Predictor"',
      'image: r8.im/me/model',
      'concurrency: {max: 4, default_target: 2}',
      'environment: ["HF_HOME=/src/.hf", "OPTS=a=b"]',
      'weights:',
      '  - name: base',
      '    target: /weights/base',
      '    source: {uri: "hf://org/model"}',
      '',
    ].join('\n'),
  });
  const c = await loadConfig(join(dir, 'cog.yaml'));
  assert.equal(c.projectDir, dir);
  assert.equal(c.file, join(dir, 'cog.yaml'));
  assert.equal(c.build.gpu, true, 'YAML 1.1 `yes` is true, as in Cog');
  assert.equal(c.build.pythonVersion, '3.10', 'unquoted 3.10 keeps its spelling');
  assert.equal((c.raw.build as Record<string, unknown>).python_version, '3.10');
  assert.deepEqual(c.build.pythonPackages, ['pillow==10.0.0']);
  assert.equal(c.build.pythonRequirements, 'requirements.txt');
  assert.deepEqual(c.build.systemPackages, ['libgl1', 'ffmpeg']);
  assert.equal(c.build.cuda, '11.8');
  assert.deepEqual(c.build.run, [
    { command: 'echo one' },
    { command: 'echo two', mounts: [{ type: 'secret', id: 'tok', target: '/run/tok' }] },
  ]);
  assert.equal(c.predict, 'predict.py:Predictor', '`run:` is the newer name of predict');
  assert.equal(c.image, 'r8.im/me/model');
  assert.deepEqual(c.concurrency, { max: 4, defaultTarget: 2 });
  assert.deepEqual(c.environment, [
    ['HF_HOME', '/src/.hf'],
    ['OPTS', 'a=b'],
  ]);
  assert.deepEqual(c.weights, [
    { name: 'base', target: '/weights/base', source: [{ uri: 'hf://org/model' }] },
  ]);
});

test('an empty cog.yaml gives the defaults', () => {
  const dir = project({});
  const c = parseConfig('', join(dir, 'cog.yaml'));
  assert.equal(c.build.gpu, false);
  assert.equal(c.build.pythonVersion, undefined);
  assert.deepEqual(c.build.pythonPackages, []);
  assert.deepEqual(c.environment, []);
  assert.equal(c.predict, undefined);
});

test('null lists (a key with no value) are accepted as empty, as Cog does', () => {
  const dir = project({});
  const c = parseConfig(
    'build:\n  python_version: "3.12"\n  python_packages:\n  run:\nenvironment:\n',
    join(dir, 'cog.yaml'),
  );
  assert.deepEqual(c.build.pythonPackages, []);
  assert.deepEqual(c.build.run, []);
  assert.equal(c.build.pythonVersion, '3.12');
});

test('a predictor function, an assignment or an import satisfies the static target check', () => {
  const dir = project({
    'predict.py':
      'import os\nfrom x import (A as Alias, B)\nasync def run_it():\n    pass\nmodel: object = None\nclass Outer:\n    class Inner:\n        pass\n',
    'cog.yaml': '',
  });
  for (const name of ['run_it', 'model', 'Alias', 'B', 'os', 'Outer']) {
    parseConfig(`predict: "predict.py:${name}"\n`, join(dir, 'cog.yaml'));
  }
  assert.throws(() => parseConfig('predict: "predict.py:Inner"\n', join(dir, 'cog.yaml')), /no top-level/);
});

test('topLevelNames ignores indented definitions and comparisons', () => {
  const names = topLevelNames('def f():\n    def g(): pass\nx == 3\ny = 2\n');
  assert.deepEqual([...names].sort(), ['f', 'y']);
});
