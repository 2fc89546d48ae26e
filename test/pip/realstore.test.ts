/**
 * Against the machine's store of real PyPI wheels (see shared/reference/local-wheel-store.md), served
 * over loopback by `python3 -m http.server` like a real index: real metadata, no PEP 658, no Range
 * support (so the whole-wheel fallback runs). Skips with a reason where the store is absent.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { installWheels, type Resolution, resolvePython } from '../../src/pip/index.js';
import { startPyIndex } from '../helpers/pyindex.js';
import { runCollect } from '../helpers/spawn.js';
import { materialize, tmp } from './helpers.js';

/** The store's index folders and find-links folder, read from the host pip config (never hard-coded). */
function discoverStore(): { indexes: string[]; findLinks: string[] } {
  const r = spawnSync('python3', ['-m', 'pip', 'config', 'list'], { encoding: 'utf8' });
  const val = (key: string) => {
    const m = new RegExp(`^${key.replace('.', '\\.')}='([^']*)'`, 'm').exec(r.stdout ?? '');
    return (m?.[1] ?? '').split(/\s+/).filter(Boolean);
  };
  const toPath = (u: string) => (u.startsWith('file:') ? fileURLToPath(u) : u);
  return {
    indexes: val('global.extra-index-url')
      .map(toPath)
      .filter((p) => existsSync(p)),
    findLinks: val('global.find-links')
      .map(toPath)
      .filter((p) => existsSync(p)),
  };
}

function serve(dir: string): Promise<{ url: string; proc: ChildProcess }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(
      'python3',
      ['-u', '-m', 'http.server', '--bind', '127.0.0.1', '--directory', dir, '0'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    proc.stdout?.on('data', (d: Buffer) => {
      const m = /port (\d+)/.exec(d.toString());
      if (m) resolve({ url: `http://127.0.0.1:${m[1]}/`, proc });
    });
    proc.on('error', reject);
    proc.on('exit', (c) => reject(new Error(`http.server exited ${c}`)));
  });
}

const store = discoverStore();
const skip =
  store.indexes.length === 0
    ? 'no local wheel store (pip config global.extra-index-url names no existing folder); see shared/reference/local-wheel-store.md'
    : false;

describe('real wheels from the local store', { skip }, () => {
  let server: { url: string; proc: ChildProcess };
  let indexUrl: string;
  before(async () => {
    server = await serve(dirname(store.indexes[0] as string));
    indexUrl = `${server.url}simple/`;
  });
  after(() => server.proc.kill());

  const resolveFor = async (reqs: string[], glibc: string, findLinks: string[] = []) => {
    const d = await tmp();
    const res = await resolvePython({
      requirements: { lines: reqs, source: 'test', baseDir: d },
      indexes: { indexUrl, findLinks },
      target: { pythonVersion: '3.11', glibc },
      cacheDir: join(d, 'cache'),
      env: {},
    });
    return { res, cache: join(d, 'cache') };
  };

  test('numpy + pillow: glibc picks the version, installs import, same as pip --target', async () => {
    const old = await resolveFor(['numpy', 'pillow'], '2.17');
    const oldNumpy = old.res.packages.find((p) => p.key === 'numpy');
    assert.ok(
      oldNumpy && /manylinux(2014|_2_17)/.test(oldNumpy.filename),
      `glibc 2.17 needs a manylinux2014 numpy, got ${oldNumpy?.filename}`,
    );
    const { res, cache } = await resolveFor(['numpy', 'pillow'], '2.28');
    const root = await tmp();
    const site = '/usr/local/lib/python3.11/site-packages';
    await materialize(
      await installWheels(res, {
        sitePackages: site,
        interpreter: '/usr/local/bin/python3',
        cacheDir: cache,
      }),
      root,
    );
    const imp = spawnSync(
      'python3',
      [
        '-I',
        '-c',
        'import sys; sys.path.insert(0, sys.argv[1]); import numpy, PIL.Image; print(numpy.__version__, PIL.__version__, int(numpy.arange(4).sum()))',
        join(root, site),
      ],
      { encoding: 'utf8' },
    );
    assert.equal(imp.status, 0, imp.stderr);
    const versions = Object.fromEntries(res.packages.map((p) => [p.key, p.version]));
    assert.equal(imp.stdout.trim(), `${versions.numpy} ${versions.pillow} 6`);
    const target = await tmp();
    const pip = await runCollect(
      'python3',
      [
        '-m',
        'pip',
        'install',
        '--isolated',
        '--no-compile',
        '--no-cache-dir',
        '--target',
        target,
        '--platform',
        'manylinux_2_28_x86_64',
        '--python-version',
        '3.11',
        '--only-binary=:all:',
        '--index-url',
        indexUrl,
        'numpy',
        'pillow',
      ],
      { env: { ...process.env, PIP_CONFIG_FILE: '/dev/null' } },
    );
    assert.equal(pip.status, 0, pip.stderr);
    const ls = (dir: string) =>
      spawnSync(
        'find',
        [
          '.',
          '-type',
          'f',
          '-not',
          '-path',
          '*/__pycache__/*',
          '-not',
          '-name',
          'INSTALLER',
          '-not',
          '-name',
          'REQUESTED',
          '-not',
          '-name',
          'direct_url.json',
        ],
        { cwd: dir, encoding: 'utf8', maxBuffer: 64 << 20 },
      )
        .stdout.split('\n')
        .filter((l) => l && !l.startsWith('./bin/'))
        .sort();
    assert.deepEqual(ls(join(root, site)), ls(target));
    assert.equal(
      await readFile(join(root, site, 'numpy/version.py'), 'utf8'),
      await readFile(join(target, 'numpy/version.py'), 'utf8'),
    );
  });

  test('torch CPU from the find-links folder: same set as pip, its own layer group', {
    skip: store.findLinks.length ? false : 'no find-links folder in the wheel store',
  }, async () => {
    const fl = pathToFileURL(store.findLinks[0] as string).href;
    const { res, cache } = await resolveFor(['torch==2.13.0+cpu'], '2.28', [fl]);
    const report = join(await tmp(), 'report.json');
    const pip = await runCollect(
      'python3',
      [
        '-m',
        'pip',
        'install',
        '--isolated',
        '--dry-run',
        '--ignore-installed',
        '--report',
        report,
        '--target',
        await tmp(),
        '--platform',
        'manylinux_2_28_x86_64',
        '--python-version',
        '3.11',
        '--only-binary=:all:',
        '--index-url',
        indexUrl,
        '--find-links',
        store.findLinks[0] as string,
        'torch==2.13.0+cpu',
      ],
      { env: { ...process.env, PIP_CONFIG_FILE: '/dev/null' } },
    );
    assert.equal(pip.status, 0, pip.stderr);
    const pipSet = (
      JSON.parse(await readFile(report, 'utf8')) as {
        install: { metadata: { name: string; version: string } }[];
      }
    ).install
      .map((i) => `${i.metadata.name.toLowerCase().replace(/[-_.]+/g, '-')}==${i.metadata.version}`)
      .sort();
    assert.deepEqual(res.packages.map((p) => `${p.key}==${p.version}`).sort(), pipSet);
    const groups = await installWheels(res as Resolution, {
      sitePackages: '/usr/local/lib/python3.11/site-packages',
      interpreter: '/usr/local/bin/python3',
      cacheDir: cache,
    });
    assert.equal(groups[0]?.name, 'python-torch');
    assert.ok((groups[0]?.size ?? 0) > 100 << 20);
    assert.ok(groups.at(-1)?.packages.some((p) => p.name.toLowerCase() === 'sympy'));
  });

  test('the store read directly as a file:// index (no server)', async () => {
    const d = await tmp();
    const res = await resolvePython({
      requirements: { lines: ['pillow'], source: 'test', baseDir: d },
      indexes: { indexUrl: pathToFileURL(store.indexes[0] as string).href },
      target: { pythonVersion: '3.11', glibc: '2.28' },
      cacheDir: d,
      env: {},
    });
    assert.equal(res.packages.length, 1);
    assert.match(res.packages[0]?.url ?? '', /^file:\/\/.*\/files\/pillow-/);
  });

  test('a 192 MB torch wheel: dependencies read with HTTP Range requests, not a download', {
    skip: store.findLinks.length ? false : 'no find-links folder in the wheel store',
  }, async () => {
    const idx = await startPyIndex({ dir: store.findLinks[0] as string, flavour: 'json', noHashes: true });
    try {
      const d = await tmp();
      const res = await resolvePython({
        requirements: { lines: ['torch==2.13.0+cpu'], source: 'test', baseDir: d },
        indexes: { indexUrl: indexUrl, findLinks: [idx.url.replace('/simple/', '/simple/torch/')] },
        target: { pythonVersion: '3.11', glibc: '2.28' },
        cacheDir: d,
        env: {},
      });
      assert.ok(res.packages.some((p) => p.key === 'torch'));
      // Its dependencies come from http.server (no Range support: downloaded); torch itself only by ranges.
      const torchGets = idx.requests.filter((q) => q.method === 'GET' && q.url.startsWith('/files/torch-'));
      assert.ok(torchGets.length > 0 && torchGets.every((q) => q.status === 206), JSON.stringify(torchGets));
      assert.ok((res.stats.metadata_range ?? 0) >= 1);
    } finally {
      await idx.close();
    }
  });
});
