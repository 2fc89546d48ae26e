import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { installWheels, readLock, resolvePython, writeLockSection } from '../../src/pip/index.js';
import { cogtsBin } from '../helpers/paths.js';
import { type PyIndex, startPyIndex } from '../helpers/pyindex.js';
import { fixtureWheels, tmp } from './helpers.js';

function cli(args: string[], cwd: string): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [cogtsBin, ...args], {
      cwd,
      env: { ...process.env, PIP_INDEX_URL: '', PIP_EXTRA_INDEX_URL: '', PIP_FIND_LINKS: '' },
    });
    let out = '';
    let err = '';
    c.stdout.on('data', (d) => (out += d));
    c.stderr.on('data', (d) => (err += d));
    c.on('close', (code) => resolve({ code, out, err }));
  });
}

describe('cogts lock and --locked', () => {
  let idx: PyIndex;
  before(async () => {
    // No hashes in the listing: the lock must still record a sha256 for every wheel.
    idx = await startPyIndex({ dir: await fixtureWheels(), flavour: 'html', noHashes: true });
  });
  after(() => idx.close());

  test('lock writes every wheel URL + sha256, --check detects staleness, other sections survive', async () => {
    const d = await tmp();
    await writeFile(join(d, 'requirements.txt'), 'alpha==1.0\n');
    const lockFile = join(d, 'cogts.lock');
    await writeLockSection(lockFile, 'base', {
      image: 'python:3.11-slim',
      digest: `sha256:${'1'.repeat(64)}`,
    });
    const common = [
      '--requirements',
      'requirements.txt',
      '--index-url',
      idx.url,
      '--cache-dir',
      join(d, 'cache'),
      '--python-version',
      '3.11',
      '--glibc',
      '2.35',
    ];
    const r = await cli(['lock', ...common], d);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /alpha==1\.0\nbeta==1\.6\n/);
    const lock = await readLock(lockFile);
    assert.equal(lock?.base?.image, 'python:3.11-slim');
    assert.deepEqual(
      lock?.pip?.packages.map((p) => [p.name, p.version, p.filename]),
      [
        ['alpha', '1.0', 'alpha-1.0-py3-none-any.whl'],
        ['beta', '1.6', 'beta-1.6-py3-none-any.whl'],
      ],
    );
    for (const p of lock?.pip?.packages ?? []) {
      assert.match(p.sha256, /^[0-9a-f]{64}$/);
      assert.ok(p.url.startsWith(idx.filesUrl));
    }
    assert.equal((await cli(['lock', '--check', ...common], d)).code, 0);
    await writeFile(join(d, 'requirements.txt'), 'alpha==2.0\n');
    const stale = await cli(['lock', '--check', ...common], d);
    assert.equal(stale.code, 1);
    assert.match(stale.err, /cogts\.lock is stale[\s\S]*hint: run `cogts lock`/);
    const otherGlibc = await cli(['lock', '--check', ...common.slice(0, -1), '2.28'], d);
    assert.equal(otherGlibc.code, 1, 'the target is part of the inputs');

    // --locked through the API: no resolution (the index may even be gone), install from lock URLs + hashes.
    await writeFile(join(d, 'requirements.txt'), 'alpha==1.0\n');
    const locked = await resolvePython({
      requirements: { file: join(d, 'requirements.txt') },
      indexes: { indexUrl: idx.url },
      target: { pythonVersion: '3.11', glibc: '2.35' },
      cacheDir: join(d, 'cache2'),
      lock,
      locked: true,
      env: {},
    });
    assert.equal(locked.from, 'lock');
    const before = idx.requests.length;
    const groups = await installWheels(locked, {
      sitePackages: '/usr/lib/python3.11/site-packages',
      interpreter: '/usr/bin/python3',
      cacheDir: join(d, 'cache2'),
    });
    assert.ok(
      groups[0]?.entries.some((e) => e.path === '/usr/lib/python3.11/site-packages/beta/__init__.py'),
    );
    assert.ok(
      idx.requests.slice(before).every((q) => q.url.startsWith('/files/')),
      'install from a lock fetches files only',
    );
    // A tampered lock hash is caught on download.
    const bad = structuredClone(lock);
    if (bad?.pip?.packages[0]) bad.pip.packages[0].sha256 = '0'.repeat(64);
    const badRes = await resolvePython({
      requirements: { file: join(d, 'requirements.txt') },
      indexes: { indexUrl: idx.url },
      target: { pythonVersion: '3.11', glibc: '2.35' },
      cacheDir: join(d, 'c3'),
      lock: bad,
      locked: true,
      env: {},
    });
    await assert.rejects(
      installWheels(badRes, { sitePackages: '/s', interpreter: '/usr/bin/python3', cacheDir: join(d, 'c3') }),
      { code: 'E_PIP_HASH_MISMATCH' },
    );
    await assert.rejects(
      resolvePython({
        requirements: { file: join(d, 'requirements.txt') },
        target: { pythonVersion: '3.11' },
        cacheDir: d,
        locked: true,
        env: {},
      }),
      { code: 'E_LOCK_MISSING' },
    );
    assert.match(await readFile(lockFile, 'utf8'), /^\{\n {2}"lockVersion": 1,\n {2}"base"/);
  });

  test('a conflict reaches the CLI user as error + hint, exit 1', async () => {
    const d = await tmp();
    await writeFile(join(d, 'requirements.txt'), 'torchy==2.1.0\ntritony==2.3.0\n');
    const r = await cli(
      ['lock', '-r', 'requirements.txt', '--index-url', idx.url, '--cache-dir', join(d, 'c')],
      d,
    );
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      /^error: .*torchy==2\.1\.0 requires tritony==2\.1\.0; you pinned tritony==2\.3\.0 \(.*requirements\.txt:2\)/m,
    );
    assert.match(r.err, /^hint: /m);
  });

  test('lock reads python_requirements from cog.yaml', async () => {
    const d = await tmp();
    await writeFile(join(d, 'requirements.txt'), 'gamma\n');
    await writeFile(
      join(d, 'predict.py'),
      'from cog import BasePredictor\nclass Predictor(BasePredictor):\n    def predict(self) -> str:\n        return "x"\n',
    );
    await writeFile(
      join(d, 'cog.yaml'),
      'build:\n  python_version: "3.11"\n  python_requirements: requirements.txt\npredict: "predict.py:Predictor"\n',
    );
    const r = await cli(['lock', '--index-url', idx.url, '--cache-dir', join(d, 'cache')], d);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^gamma==1\.0\n/);
    assert.equal((await readLock(join(d, 'cogts.lock')))?.pip?.target.pythonVersion, '3.11');
  });
});
