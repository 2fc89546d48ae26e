import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRelations } from '../../src/apt/relations.js';
import { applyMirrors, parseDeb822Sources, parseMirror, parseSourcesList } from '../../src/apt/sources.js';
import { CogtsError } from '../../src/errors.js';

test('one-line sources.list: options, flat repos, deb-src and comments', () => {
  const s = parseSourcesList(
    [
      '# comment',
      'deb [arch=amd64 signed-by=/usr/share/keyrings/k.gpg] http://deb.debian.org/debian/ bookworm main contrib',
      'deb-src http://deb.debian.org/debian bookworm main',
      'deb https://developer.download.nvidia.com/compute/cuda/repos/ubuntu2204/x86_64 /',
    ].join('\n'),
    '/etc/apt/sources.list',
  );
  assert.equal(s.length, 2);
  assert.deepEqual(s[0], {
    uri: 'http://deb.debian.org/debian',
    suite: 'bookworm',
    components: ['main', 'contrib'],
    architectures: ['amd64'],
    signedBy: '/usr/share/keyrings/k.gpg',
    origin: '/etc/apt/sources.list:2',
  });
  assert.equal(s[1]!.suite, '/');
  assert.deepEqual(s[1]!.components, []);
});

test('deb822 .sources: several URIs x Suites, Enabled: no, inline comments', () => {
  const s = parseDeb822Sources(
    [
      'Types: deb deb-src',
      '# http://snapshot.debian.org/archive/debian/20250520T000000Z',
      'URIs: http://deb.debian.org/debian',
      'Suites: bookworm bookworm-updates',
      'Components: main',
      'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg',
      '',
      'Types: deb',
      'URIs: http://x/y',
      'Suites: s',
      'Components: main',
      'Enabled: no',
    ].join('\n'),
    'debian.sources',
  );
  assert.deepEqual(
    s.map((x) => x.suite),
    ['bookworm', 'bookworm-updates'],
  );
  assert.equal(s[0]!.signedBy, '/usr/share/keyrings/debian-archive-keyring.gpg');
});

test('bad sources lines name the file and line', () => {
  assert.throws(
    () => parseSourcesList('deb http://x', '/etc/apt/sources.list'),
    (e: unknown) => e instanceof CogtsError && /sources.list:1/.test(e.message),
  );
  assert.throws(
    () => parseDeb822Sources('Types: deb\nURIs: http://x\nSuites: s\n', 'a.sources'),
    /component/,
  );
});

test('--apt-mirror: FROM=TO prefix and bare origin replacement', () => {
  const src = parseSourcesList(
    'deb http://deb.debian.org/debian bookworm main\ndeb http://deb.debian.org/debian-security bookworm-security main',
    'l',
  );
  const a = applyMirrors(src, [parseMirror('http://deb.debian.org/debian-security=http://127.0.0.1:9/sec')]);
  assert.deepEqual(
    a.map((s) => s.uri),
    ['http://deb.debian.org/debian', 'http://127.0.0.1:9/sec'],
  );
  const b = applyMirrors(src, [parseMirror('http://127.0.0.1:9/m/')]);
  assert.deepEqual(
    b.map((s) => s.uri),
    ['http://127.0.0.1:9/m/debian', 'http://127.0.0.1:9/m/debian-security'],
  );
  assert.throws(() => parseMirror('ftp:/x'), /http\(s\) URL/);
});

test('relations: alternatives, versions, arch qualifiers', () => {
  const r = parseRelations(
    'libc6 (>= 2.34), libgl1-mesa-dri | libgl1-amber-dri, python3:any (<< 3.12), perl:any',
    'x',
  );
  assert.equal(r.length, 4);
  assert.deepEqual(r[0], [{ name: 'libc6', op: '>=', version: '2.34' }]);
  assert.equal(r[1]!.length, 2);
  assert.deepEqual(r[2], [{ name: 'python3', archQualifier: 'any', op: '<<', version: '3.12' }]);
});
