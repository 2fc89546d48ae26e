import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseRequirement, parseRequirementsText, readPins } from '../../src/compat/pins.js';
import { localLabel, matchesSpecifier } from '../../src/compat/versions.js';
import type { Config } from '../../src/config/types.js';

test('requirement lines: names normalised, specifiers, extras, markers, direct references', () => {
  const r = parseRequirement('Torch_Vision[extra1, extra2] >= 0.16 , <0.17 ; python_version < "3.12"', 'x');
  assert.equal(r.name, 'torch-vision');
  assert.equal(r.specifier, '>=0.16,<0.17');
  assert.deepEqual(r.extras, ['extra1', 'extra2']);
  assert.equal(r.marker, 'python_version < "3.12"');
  const direct = parseRequirement('mypkg @ https://example.invalid/mypkg-1.0-py3-none-any.whl', 'x');
  assert.equal(direct.name, 'mypkg');
  assert.equal(direct.specifier, '');
  assert.equal(parseRequirement('./wheels/local-1.0-py3-none-any.whl', 'x').name, undefined);
});

test('requirements text: options, continuation, hashes and comments', () => {
  const text = [
    '# comment',
    '--extra-index-url https://download.pytorch.org/whl/cu118',
    '-i http://127.0.0.1:9/simple',
    '--find-links=/wheels',
    'torch==2.1.0+cu118 \\',
    '    --hash=sha256:abc',
    'numpy>=1.26  # trailing comment',
    '-r more.txt',
  ].join('\n');
  const { pins, includes } = parseRequirementsText(text, 'requirements.txt');
  assert.deepEqual(pins.extraIndexUrls, ['https://download.pytorch.org/whl/cu118']);
  assert.equal(pins.indexUrl, 'http://127.0.0.1:9/simple');
  assert.deepEqual(pins.findLinks, ['/wheels']);
  assert.deepEqual(
    pins.requirements.map((r) => [r.name, r.specifier, r.origin]),
    [
      ['torch', '==2.1.0+cu118', 'requirements.txt:5'],
      ['numpy', '>=1.26', 'requirements.txt:7'],
    ],
  );
  assert.deepEqual(includes, [{ path: 'more.txt', origin: 'requirements.txt:8' }]);
});

test('readPins follows -r includes once and puts python_packages first', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cogts-pins-'));
  writeFileSync(join(dir, 'requirements.txt'), 'torch==2.1.0\n-r sub/more.txt\n');
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'sub', 'more.txt'), 'pillow==10.0.0\n-r ../requirements.txt\n');
  const config: Config = {
    file: join(dir, 'cog.yaml'),
    projectDir: dir,
    build: {
      gpu: false,
      pythonPackages: ['numpy==1.26.4'],
      pythonRequirements: 'requirements.txt',
      systemPackages: [],
      run: [],
      preInstall: [],
    },
    environment: [],
    raw: {},
  };
  const pins = await readPins(config);
  assert.deepEqual(
    pins.requirements.map((r) => `${r.line} @ ${r.origin}`),
    [
      'numpy==1.26.4 @ cog.yaml build.python_packages[0]',
      'torch==2.1.0 @ requirements.txt:1',
      'pillow==10.0.0 @ sub/more.txt:1',
    ],
  );
});

test('PEP 440 matching ignores the local label of the specifier; localLabel reads it', () => {
  assert.ok(matchesSpecifier('2.1.0', '==2.1.0+cu118'));
  assert.ok(matchesSpecifier('2.1.2', '>=2,<2.2'));
  assert.ok(!matchesSpecifier('2.2.0', '>=2,<2.2'));
  assert.ok(matchesSpecifier('2.1.1', '~=2.1.0'));
  assert.ok(matchesSpecifier('2.10.0', '>2.9'), '2.10 sorts after 2.9');
  assert.equal(localLabel('==2.1.0+cu118'), 'cu118');
  assert.equal(localLabel('>=2.1'), undefined);
});
