import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { alternativeEntries, parseAdmin } from '../../src/apt/alternatives.js';
import { dirRootfsView } from '../../src/apt/dirview.js';
import { readElfInfo } from '../../src/apt/elf.js';
import { libcmp, parseLdCache, writeLdCache } from '../../src/apt/ldcache.js';
import { findAlternatives, unhandledLines } from '../../src/apt/maintscripts.js';
import { checkValidUntil } from '../../src/apt/repo.js';
import { suggest } from '../../src/apt/resolve.js';
import { makePathMapper } from '../../src/apt/usrmerge.js';

test('ld.so.cache: parse this machine’s cache, rewrite it, same entries in the same order', () => {
  const buf = readFileSync('/etc/ld.so.cache');
  const entries = parseLdCache(buf);
  assert.ok(entries && entries.length > 10);
  assert.deepEqual(parseLdCache(writeLdCache(entries)), entries, 'ldconfig order = our order');
  assert.ok(libcmp('libfoo.so.10', 'libfoo.so.9') > 0, 'digits compare as numbers');
  assert.ok(libcmp('libc.so.6', 'libcap.so.2') < 0);
});

test('ELF DT_SONAME matches readelf on real libraries', () => {
  const dir = '/usr/lib/x86_64-linux-gnu';
  const libs = readdirSync(dir).filter((n) => /^lib(z|ssl|crypto|ffi|stdc\+\+)\.so\.\d+$/.test(n));
  assert.ok(libs.length >= 2);
  for (const n of libs) {
    const data = readFileSync(join(dir, n));
    const info = readElfInfo((o, l) => data.subarray(o, o + l));
    const readelf = execFileSync('readelf', ['-d', join(dir, n)]).toString();
    const m = /Library soname: \[([^\]]+)\]/.exec(readelf);
    assert.equal(info?.soname, m?.[1], n);
    assert.equal(info?.machine, 62);
  }
});

test('merged-/usr mapping resolves parent symlinks of the base only', () => {
  const root = mkdtempSync(join(tmpdir(), 'cogts-usrmerge-'));
  try {
    mkdirSync(join(root, 'usr/bin'), { recursive: true });
    mkdirSync(join(root, 'run'));
    mkdirSync(join(root, 'var'));
    symlinkSync('usr/bin', join(root, 'bin'));
    symlinkSync('/run', join(root, 'var/run'));
    const m = makePathMapper(dirRootfsView(root));
    assert.equal(m.map('/bin/ls'), '/usr/bin/ls');
    assert.equal(m.map('/var/run/x/y'), '/run/x/y');
    assert.equal(m.map('/usr/share/doc'), '/usr/share/doc');
    assert.ok(m.isDirLink('/bin'));
    assert.ok(!m.isDirLink('/usr/bin'));
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('postinst: update-alternatives with slaves and variables; boilerplate is not reported', () => {
  const script = [
    '#!/bin/sh',
    'set -e',
    'triplet=x86_64-linux-gnu',
    'if [ "$1" = "configure" ]; then',
    '  update-alternatives --install /usr/lib/$triplet/libblas.so.3 libblas.so.3-$triplet \\',
    '     /usr/lib/$triplet/blas/libblas.so.3 10 \\',
    '     --slave /usr/lib/$triplet/libblas.so libblas.so-$triplet /usr/lib/$triplet/blas/libblas.so',
    'fi',
    '# Automatically added by dh_makeshlibs',
    'if [ "$1" = "configure" ]; then',
    '\tldconfig',
    'fi',
    'exit 0',
  ].join('\n');
  const { installs, unresolved } = findAlternatives('libblas3', script, 'x86_64-linux-gnu');
  assert.deepEqual(unresolved, []);
  assert.deepEqual(installs, [
    {
      link: '/usr/lib/x86_64-linux-gnu/libblas.so.3',
      name: 'libblas.so.3-x86_64-linux-gnu',
      path: '/usr/lib/x86_64-linux-gnu/blas/libblas.so.3',
      priority: 10,
      slaves: [
        {
          link: '/usr/lib/x86_64-linux-gnu/libblas.so',
          name: 'libblas.so-x86_64-linux-gnu',
          path: '/usr/lib/x86_64-linux-gnu/blas/libblas.so',
        },
      ],
      pkg: 'libblas3',
    },
  ]);
  assert.deepEqual(unhandledLines(script), []);
  assert.deepEqual(unhandledLines('#!/bin/sh\nset -e\nfc-cache -s\n'), ['fc-cache -s']);
});

test('did-you-mean suggestions', () => {
  const names = ['ffmpeg', 'libgl1', 'libgl1-mesa-dri', 'libglx0', 'python3.11', 'python3'];
  assert.deepEqual(suggest('fmpeg', names), ['ffmpeg']);
  assert.equal(suggest('libgl', names)[0], 'libgl1');
  assert.deepEqual(suggest('zzzzzzzz', names), []);
});

test('Release Valid-Until in the past is refused, absent or future is fine', () => {
  const rel = (v: string) => `Origin: Debian\nSuite: stable\n${v}SHA256:\n`;
  const now = new Date('2026-06-01T00:00:00Z');
  checkValidUntil(rel(''), 'u', now);
  checkValidUntil(rel('Valid-Until: Mon, 01 Jun 2026 00:00:01 UTC\n'), 'u', now);
  assert.throws(
    () => checkValidUntil(rel('Valid-Until: Sun, 31 May 2026 00:00:00 UTC\n'), 'http://x/InRelease', now),
    /http:\/\/x\/InRelease expired/,
  );
});

test('alternatives: a choice the base registered competes with the new ones; admin file round-trips', async () => {
  const admin =
    'auto\n/usr/lib/libblas.so.3\nlibblas.so-x\n/usr/lib/libblas.so\n\n/opt/openblas/libblas.so.3\n40\n/opt/openblas/libblas.so\n\n';
  const base = parseAdmin('libblas.so.3-x', admin);
  assert.deepEqual(base, [
    {
      link: '/usr/lib/libblas.so.3',
      name: 'libblas.so.3-x',
      path: '/opt/openblas/libblas.so.3',
      priority: 40,
      slaves: [{ name: 'libblas.so-x', link: '/usr/lib/libblas.so', path: '/opt/openblas/libblas.so' }],
      pkg: '(base image)',
    },
  ]);
  const mine = {
    link: '/usr/lib/libblas.so.3',
    name: 'libblas.so.3-x',
    path: '/usr/lib/blas/libblas.so.3',
    priority: 10,
    slaves: [],
    pkg: 'libblas3',
  };
  const { chosen, entries } = alternativeEntries(
    [mine],
    (p) => p,
    () => admin,
  );
  assert.deepEqual(chosen, [
    {
      name: 'libblas.so.3-x',
      link: '/usr/lib/libblas.so.3',
      path: '/opt/openblas/libblas.so.3',
      pkg: '(base image)',
    },
  ]);
  const file = entries.find((e) => e.path === '/var/lib/dpkg/alternatives/libblas.so.3-x');
  assert.ok(file?.type === 'file');
  let text = '';
  for await (const c of await file.open()) text += c;
  const written = parseAdmin('libblas.so.3-x', text);
  assert.deepEqual(
    written.map((a) => [a.path, a.priority, a.slaves.map((x) => x.path)]),
    [
      ['/opt/openblas/libblas.so.3', 40, ['/opt/openblas/libblas.so']],
      ['/usr/lib/blas/libblas.so.3', 10, []],
    ],
  );
});
