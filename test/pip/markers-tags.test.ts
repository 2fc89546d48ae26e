import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseWheelName } from '../../src/pip/names.js';
import { evaluateMarker, parseMarker, parseRequirement, versionMatches } from '../../src/pip/pep508.js';
import { makeTagRanker, markerEnv, platformTags, supportedTags } from '../../src/pip/target.js';

const env = markerEnv({ pythonVersion: '3.11', platform: 'linux/amd64', glibc: '2.35' });
const arm = markerEnv({ pythonVersion: '3.10.4', platform: 'linux/arm64', glibc: '2.31' });

test('markers are evaluated for the target, not the host', () => {
  const ev = (m: string, e = env) => evaluateMarker(parseMarker(m), e);
  assert.equal(ev('sys_platform == "linux" and platform_machine == "x86_64"'), true);
  assert.equal(ev('platform_machine == "x86_64"', arm), false);
  assert.equal(ev('python_version >= "3.8" and python_version < "3.12"'), true);
  assert.equal(ev('python_version < "3.10"'), false);
  assert.equal(ev('python_version > "3.9"'), true, 'versions compare as versions, not strings');
  assert.equal(ev('python_full_version >= "3.10.4"', arm), true);
  assert.equal(ev('"linux" in sys_platform'), true);
  assert.equal(ev('os_name == "nt" or (sys_platform != "win32" and implementation_name == "cpython")'), true);
  assert.equal(ev('extra == "Fast_Mode"', { ...env, extra: 'fast-mode' }), true);
  assert.equal(ev('platform_system == "Darwin"'), false);
});

test('PEP 508 requirement parsing', () => {
  const r = parseRequirement('Foo.Bar[x,Y] (>=1.0,!=1.5.*) ; python_version<"4"');
  assert.equal(r.key, 'foo-bar');
  assert.deepEqual(r.extras, ['x', 'y']);
  assert.equal(r.specifier, '>=1.0,!=1.5.*');
  const u = parseRequirement('pkg @ https://h/pkg-1.0-py3-none-any.whl ; os_name == "posix"');
  assert.equal(u.url, 'https://h/pkg-1.0-py3-none-any.whl');
  assert.throws(() => parseRequirement('pkg >= 1.0 ; bogus_var == "x"'), /unknown marker variable/);
});

test('PEP 440 matching with pre-releases and local versions', () => {
  assert.equal(versionMatches('2.0rc1', '>=1.0', false), false);
  assert.equal(versionMatches('2.0rc1', '>=1.0', true), true);
  assert.equal(versionMatches('2.0rc1', '>=2.0rc1', false), true);
  assert.equal(versionMatches('2.1.0+cpu', '==2.1.0', false), true);
  assert.equal(versionMatches('1.4.2', '~=1.4', false), true);
  assert.equal(versionMatches('2.0', '~=1.4', false), false);
});

test('wheel tags for the target: manylinux up to the glibc, legacy aliases, musl, never linux_*', () => {
  const p = platformTags({ pythonVersion: '3.11', glibc: '2.28' });
  assert.equal(p[0], 'manylinux_2_28_x86_64');
  assert.ok(
    p.includes('manylinux2014_x86_64') &&
      p.includes('manylinux2010_x86_64') &&
      p.includes('manylinux1_x86_64'),
  );
  assert.ok(!p.includes('manylinux_2_31_x86_64'));
  assert.ok(!p.some((t) => t.startsWith('linux_')));
  assert.deepEqual(platformTags({ pythonVersion: '3.11', platform: 'linux/arm64', musl: '1.2' }), [
    'musllinux_1_2_aarch64',
    'musllinux_1_1_aarch64',
    'musllinux_1_0_aarch64',
  ]);
  assert.ok(
    !platformTags({ pythonVersion: '3.11', platform: 'linux/arm64', glibc: '2.17' }).includes(
      'manylinux1_aarch64',
    ),
  );
  const tags = supportedTags({ pythonVersion: '3.11', glibc: '2.35' });
  assert.equal(tags[0], 'cp311-cp311-manylinux_2_35_x86_64');
  assert.equal(tags.at(-1), 'py30-none-any');
  const rank = makeTagRanker({ pythonVersion: '3.11', glibc: '2.17' });
  const w = (f: string) => rank(parseWheelName(f)?.tags ?? []);
  assert.notEqual(w('numpy-2.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl'), undefined);
  assert.equal(w('torch-2.1-cp311-cp311-manylinux_2_28_x86_64.whl'), undefined, 'needs glibc 2.28');
  assert.equal(w('x-1-cp312-cp312-manylinux_2_17_x86_64.whl'), undefined);
  assert.equal(w('x-1-cp311-cp311-linux_x86_64.whl'), undefined);
  assert.notEqual(w('x-1-cp38-abi3-manylinux2014_x86_64.whl'), undefined);
  assert.ok(
    (w('x-1-cp311-cp311-manylinux2014_x86_64.whl') as number) < (w('x-1-py3-none-any.whl') as number),
  );
  assert.deepEqual(parseWheelName('six-1.16.0-py2.py3-none-any.whl')?.tags, ['py2-none-any', 'py3-none-any']);
});
