import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { effectiveIndexes } from '../../src/pip/index.js';
import { readRequirementsFile } from '../../src/pip/requirements.js';
import { tmp } from './helpers.js';

const H = 'a'.repeat(64);

test('requirements.txt: includes, options, continuations, comments, hashes, wheel paths and URLs', async () => {
  const d = await tmp();
  await mkdir(join(d, 'sub'));
  await writeFile(join(d, 'sub', 'base.txt'), 'beta>=1.0  # trailing comment\n');
  await writeFile(join(d, 'sub', 'cons.txt'), 'beta<2\n');
  await writeFile(
    join(d, 'requirements.txt'),
    [
      '# a comment',
      '--index-url https://user:tok@idx.example/simple',
      '--extra-index-url=https://extra.example/simple',
      '-f ./wheels',
      '--pre',
      '--only-binary :all:',
      '-r sub/base.txt',
      '-c sub/cons.txt',
      'alpha[fast, Extra_Two] >= 1.0, < 3 ; python_version >= "3.8" \\',
      '    and sys_platform == "linux"',
      `gamma==1.0 --hash=sha256:${H} \\`,
      `    --hash sha256:${'b'.repeat(64)}`,
      './wheels/delta-1.0-py3-none-any.whl',
      'https://files.example/e/epsilon-1.0-py3-none-any.whl#sha256=' + H,
      'zeta @ https://files.example/zeta-1.0-py3-none-any.whl ; os_name == "posix"',
      '',
    ].join('\n'),
  );
  const s = await readRequirementsFile(join(d, 'requirements.txt'));
  assert.equal(s.indexUrl, 'https://user:tok@idx.example/simple');
  assert.deepEqual(s.extraIndexUrls, ['https://extra.example/simple']);
  assert.equal(s.findLinks[0], `file://${join(d, 'wheels')}`);
  assert.equal(s.pre, true);
  assert.equal(s.requireHashes, true);
  assert.deepEqual(
    s.requirements.map((r) => [r.key, r.specifier, r.extras, r.source.replace(d, '')]),
    [
      ['beta', '>=1.0', [], '/sub/base.txt:1'],
      ['alpha', '>=1.0,<3', ['fast', 'extra-two'], '/requirements.txt:9'],
      ['gamma', '==1.0', [], '/requirements.txt:11'],
      ['delta', '', [], '/requirements.txt:13'],
      ['epsilon', '', [], '/requirements.txt:14'],
      ['zeta', '', [], '/requirements.txt:15'],
    ],
  );
  assert.deepEqual(s.requirements[2]?.hashes, [H, 'b'.repeat(64)]);
  assert.equal(s.requirements[3]?.url, `file://${join(d, 'wheels', 'delta-1.0-py3-none-any.whl')}`);
  assert.ok(s.requirements[1]?.marker);
  assert.deepEqual(
    s.constraints.map((c) => c.specifier),
    ['<2'],
  );
});

test('requirements.txt errors name file:line', async () => {
  const d = await tmp();
  const cases: [string, RegExp][] = [
    ['ok\nfoo >= = 1\n', /requirements\.txt:2: invalid version specifier/],
    ['-e .\n', /requirements\.txt:1: editable installs/],
    ['./pkg-1.0.tar.gz\n', /requirements\.txt:1: .*not a wheel/],
    ['--no-binary :all:\n', /requirements\.txt:1: --no-binary/],
    ['-r missing.txt\n', /requirements\.txt:1: cannot read included file missing\.txt/],
    ['x ; python_version >> "3"\n', /requirements\.txt:1: /],
    ['x --hash=md5:abc\n', /requirements\.txt:1: unsupported hash/],
    ['--frobnicate\n', /requirements\.txt:1: unsupported option --frobnicate/],
  ];
  for (const [text, re] of cases) {
    await writeFile(join(d, 'requirements.txt'), text);
    await assert.rejects(
      readRequirementsFile(join(d, 'requirements.txt')),
      (e: Error & { code?: string }) => {
        assert.equal(e.code, 'E_PIP_REQUIREMENT', e.message);
        assert.match(e.message, re);
        return true;
      },
    );
  }
});

test('$VAR in requirements files comes from the environment', async () => {
  const d = await tmp();
  process.env.COGTS_TEST_TOKEN = 'tok123';
  await writeFile(
    join(d, 'r.txt'),
    // biome-ignore lint/suspicious/noTemplateCurlyInString: pip's own ${VAR} syntax, on purpose
    '--extra-index-url https://u:${COGTS_TEST_TOKEN}@h/simple\nx==1 ; os_name == "${NOT_SET_ANYWHERE}"\n',
  );
  const s = await readRequirementsFile(join(d, 'r.txt'));
  delete process.env.COGTS_TEST_TOKEN;
  assert.deepEqual(s.extraIndexUrls, ['https://u:tok123@h/simple']);
  assert.match(s.requirements[0]?.text ?? '', /\$\{NOT_SET_ANYWHERE\}/);
});

test('index precedence: options > file > PIP_* env > PyPI', async () => {
  const d = await tmp();
  await writeFile(join(d, 'r.txt'), 'x\n');
  const s = await readRequirementsFile(join(d, 'r.txt'));
  const env = {
    PIP_INDEX_URL: 'http://env/simple',
    PIP_EXTRA_INDEX_URL: 'http://e1/simple http://e2/simple',
  };
  assert.deepEqual(effectiveIndexes(s, undefined, env).indexUrls, [
    'http://env/simple',
    'http://e1/simple',
    'http://e2/simple',
  ]);
  assert.deepEqual(
    effectiveIndexes(s, { indexUrl: 'http://opt/simple' }, env).indexUrls[0],
    'http://opt/simple',
  );
  assert.deepEqual(effectiveIndexes(s, undefined, {}).indexUrls, ['https://pypi.org/simple/']);
  s.indexUrl = 'http://file/simple';
  assert.equal(effectiveIndexes(s, undefined, env).indexUrls[0], 'http://file/simple');
});
