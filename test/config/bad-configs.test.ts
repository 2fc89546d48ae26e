import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { fixturesDir } from '../helpers/paths.js';

const badDir = join(fixturesDir, 'config', 'bad');

/** One expected problem: where, which field, and words the message and suggestion must contain. */
interface Expect {
  at: string;
  field: string;
  says: (string | RegExp)[];
  suggests?: string | RegExp;
}

const cases: Record<string, Expect[]> = {
  'unknown-key-typo': [
    {
      at: '3:3',
      field: 'build.pyhton_version',
      says: ['unknown key "pyhton_version"'],
      suggests: 'did you mean python_version?',
    },
  ],
  'build-typo': [
    { at: '1:1', field: 'buidl', says: ['unknown key "buidl"'], suggests: 'did you mean build?' },
  ],
  'top-level-typo': [
    { at: '3:1', field: 'enviroment', says: ['unknown key'], suggests: 'did you mean environment?' },
  ],
  'gpu-at-top-level': [{ at: '3:1', field: 'gpu', says: ['unknown key "gpu"'], suggests: 'build.gpu' }],
  'gpu-maybe': [{ at: '2:8', field: 'build.gpu', says: ['expected true or false', 'got "maybe"'] }],
  'gpu-quoted': [
    {
      at: '2:8',
      field: 'build.gpu',
      says: ['expected true or false', 'got "true"'],
      suggests: 'without quotes',
    },
  ],
  'python-version-old': [
    {
      at: '2:19',
      field: 'build.python_version',
      says: ['Python 3.7 is not supported', '3.8, 3.9'],
      suggests: '"3.8" or newer',
    },
  ],
  'python-version-two': [
    { at: '2:19', field: 'build.python_version', says: ['Python 2.7 is not supported'] },
  ],
  'python-version-word': [
    { at: '2:19', field: 'build.python_version', says: ['expected a version such as "3.12"', 'got "three"'] },
  ],
  'python-version-list': [
    { at: '2:19', field: 'build.python_version', says: ['expected a string or a number', 'got a list'] },
  ],
  'python-packages-string': [
    {
      at: '3:20',
      field: 'build.python_packages',
      says: ['expected a list', 'got "torch==2.1.0"'],
      suggests: '["torch==2.1.0"]',
    },
  ],
  'python-packages-item': [
    { at: '5:7', field: 'build.python_packages[1]', says: ['expected a string, got 5'] },
  ],
  'python-packages-flag': [
    { at: '4:7', field: 'build.python_packages[0]', says: ['expected a requirement such as "torch==2.1.0"'] },
  ],
  'system-packages-name': [
    { at: '5:7', field: 'build.system_packages[1]', says: ['expected an apt package name', '"Lib GL"'] },
  ],
  'requirements-missing': [
    {
      at: '3:24',
      field: 'build.python_requirements',
      says: ['requirements file not found', join(badDir, 'missing-requirements.txt')],
    },
  ],
  'cuda-number': [
    { at: '4:9', field: 'build.cuda', says: ['expected a string, got 12.1'], suggests: 'quote it: "12.1"' },
  ],
  'cuda-word': [{ at: '4:9', field: 'build.cuda', says: ['expected a version such as "12.1"', '"latest"'] }],
  'predict-no-class': [
    {
      at: '3:10',
      field: 'predict',
      says: ['defines no top-level class or function "Nope"'],
      suggests: /Predictor/,
    },
  ],
  'predict-typo': [
    { at: '3:10', field: 'predict', says: ['"Predictr"'], suggests: 'did you mean ../predict.py:Predictor?' },
  ],
  'predict-missing-file': [
    { at: '3:10', field: 'predict', says: ['file not found', join(badDir, 'nothere.py')] },
  ],
  'predict-format': [
    { at: '3:10', field: 'predict', says: ['expected "file.py:Name"'], suggests: 'predict.py:Predictor' },
  ],
  'run-and-predict': [
    {
      at: '4:1',
      field: 'predict',
      says: ['both run and predict are set'],
      suggests: 'delete predict: and keep run:',
    },
  ],
  'env-path': [{ at: '5:5', field: 'environment[1]', says: ['PATH cannot be set here'] }],
  'env-cuda-prefix': [
    { at: '4:5', field: 'environment[0]', says: ['CUDA_VISIBLE_DEVICES cannot be set', 'CUDA_*'] },
  ],
  'env-format': [{ at: '4:5', field: 'environment[0]', says: ['expected NAME=value', 'got "FOO"'] }],
  'env-duplicate': [{ at: '5:5', field: 'environment[1]', says: ['A is already set by environment[0]'] }],
  'env-mapping': [{ at: '4:3', field: 'environment', says: ['expected a list, got a mapping'] }],
  'concurrency-zero': [{ at: '4:8', field: 'concurrency.max', says: ['at least 1, got 0'] }],
  'concurrency-word': [
    { at: '4:8', field: 'concurrency.max', says: ['expected a whole number, got "four"'] },
  ],
  'concurrency-no-max': [{ at: '4:3', field: 'concurrency.max', says: ['missing required key "max"'] }],
  'run-item-number': [{ at: '5:7', field: 'build.run[1]', says: ['expected a string or a mapping, got 42'] }],
  'run-mount-type': [
    { at: '6:17', field: 'build.run[0].mounts[0].type', says: ['expected one of "secret"', 'got "cache"'] },
  ],
  'run-command-missing': [
    { at: '4:7', field: 'build.run[0].command', says: ['missing required key "command"'] },
  ],
  'weights-name': [
    { at: '4:11', field: 'weights[0].name', says: ['expected a lowercase name', '"My Weights"'] },
  ],
  'weights-no-source': [
    { at: '4:5', field: 'weights[0].source', says: ['missing required key "source"'] },
    { at: '5:13', field: 'weights[0].target', says: ['expected an absolute path', '"weights"'] },
  ],
  'image-number': [{ at: '3:8', field: 'image', says: ['expected a string, got 42'], suggests: 'quote it' }],
  'yaml-tab': [{ at: '3:1', field: '', says: ['YAML syntax error', 'tab'], suggests: 'spaces, not tabs' }],
  'yaml-duplicate': [{ at: '3:3', field: '', says: ['YAML syntax error', 'duplicated mapping key'] }],
  'yaml-unclosed-quote': [{ at: /^\d+:\d+$/ as unknown as string, field: '', says: ['YAML syntax error'] }],
  'not-a-mapping': [{ at: '1:1', field: '', says: ['expected a mapping of keys', 'got a list'] }],
  'many-problems': [
    { at: '2:8', field: 'build.gpu', says: ['expected true or false'] },
    {
      at: '3:3',
      field: 'build.pyhton_version',
      says: ['unknown key'],
      suggests: 'did you mean python_version?',
    },
    { at: '4:24', field: 'build.python_requirements', says: ['not found'] },
    { at: '5:10', field: 'predict', says: ['"Nope"'] },
  ],
};

for (const [name, expected] of Object.entries(cases)) {
  test(`bad cog.yaml: ${name}`, async () => {
    const file = join(badDir, `${name}.yaml`);
    const err = await loadConfig(file).then(
      () => assert.fail(`${name}.yaml loaded without error`),
      (e: unknown) => e,
    );
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    assert.equal(err.code, 'E_CONFIG');
    assert.equal(err.problems.length, expected.length, err.message);
    expected.forEach((want, i) => {
      const got = err.problems[i]!;
      const at = `${got.line}:${got.column}`;
      if (typeof want.at === 'string')
        assert.equal(at, want.at, `${name}: position of ${want.field}\n${err.message}`);
      else assert.match(at, want.at);
      assert.equal(got.field, want.field, err.message);
      assert.ok(got.file.endsWith(`${name}.yaml`), got.file);
      // The one-line form in the thrown message names file:line:col and the field.
      const prefix = `${got.file}:${at}:${want.field === '' ? '' : ` ${want.field}:`}`;
      assert.ok(err.message.includes(prefix), `message lacks "${prefix}":\n${err.message}`);
      for (const s of want.says) {
        if (typeof s === 'string') assert.ok(got.message.includes(s), `"${got.message}" lacks "${s}"`);
        else assert.match(got.message, s);
      }
      if (want.suggests !== undefined) {
        assert.ok(got.suggestion, `${name}: expected a suggestion`);
        if (typeof want.suggests === 'string')
          assert.ok(got.suggestion.includes(want.suggests), got.suggestion);
        else assert.match(got.suggestion, want.suggests);
        assert.ok(err.message.includes(got.suggestion));
      }
    });
  });
}

test('a missing cog.yaml is one E_CONFIG error that names the path and suggests cogts init', async () => {
  const file = join(badDir, 'no-such-cog.yaml');
  await assert.rejects(loadConfig(file), (e: unknown) => {
    assert.ok(e instanceof Error && 'code' in e && e.code === 'E_CONFIG');
    assert.match(e.message, /no-such-cog\.yaml: no such file/);
    assert.match(String((e as { hint?: string }).hint), /cogts init/);
    return true;
  });
});
