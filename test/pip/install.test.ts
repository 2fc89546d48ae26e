import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { installWheels, type Resolution, resolvePython } from '../../src/pip/index.js';
import { type PyIndex, startPyIndex } from '../helpers/pyindex.js';
import { fixtureWheels, materialize, TARGET, tmp } from './helpers.js';

const SITE = '/usr/local/lib/python3.11/site-packages';
const PY = spawnSync('python3', ['-c', 'import sys,os;print(os.path.realpath(sys.executable))'], {
  encoding: 'utf8',
}).stdout.trim();

function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    c.stderr.on('data', (d) => (stderr += d));
    c.on('close', (status) => resolve({ status, stderr }));
  });
}

async function walk(dir: string, base = dir): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p, base)));
    else out.push(relative(base, p));
  }
  return out.sort();
}

describe('installing wheels as layer entries', () => {
  let idx: PyIndex;
  let cache: string;
  let res: Resolution;
  before(async () => {
    idx = await startPyIndex({
      dir: await fixtureWheels(),
      flavour: 'json',
      yanked: { 'beta-1.6-py3-none-any.whl': '' },
    });
    const d = await tmp();
    cache = join(d, 'cache');
    await writeFile(join(d, 'r.txt'), 'alpha[fast]\nspeedy\nnsa\nnsb\n');
    res = await resolvePython({
      requirements: { file: join(d, 'r.txt') },
      indexes: { indexUrl: idx.url },
      target: TARGET,
      cacheDir: cache,
      env: {},
    });
  });
  after(() => idx.close());

  test('layout: purelib/platlib, .data scripts/headers/data, console scripts, fresh RECORD, no installer noise', async () => {
    const groups = await installWheels(res, {
      sitePackages: SITE,
      interpreter: PY,
      binDir: '/usr/local/bin',
      cacheDir: cache,
    });
    assert.equal(groups.length, 1);
    assert.equal(groups[0]?.name, 'python-packages');
    const root = await tmp();
    const paths = await materialize(groups, root);
    assert.deepEqual(paths, [...paths].sort(), 'entries are sorted');
    for (const p of [
      '/usr/local/bin/gamma-cli',
      '/usr/local/bin/eps-tool',
      '/usr/local/include/python3.11/epsilon/eps.h',
      '/usr/local/share/epsilon/data.txt',
      `${SITE}/epsilon_extra.py`,
    ])
      assert.ok(paths.includes(p), p);
    assert.ok(!paths.some((p) => /\/(INSTALLER|REQUESTED|direct_url\.json)$/.test(p)));
    const epsTool = await readFile(join(root, '/usr/local/bin/eps-tool'), 'utf8');
    assert.ok(epsTool.startsWith(`#!${PY}\n`), epsTool);
    assert.equal((await stat(join(root, '/usr/local/bin/eps-tool'))).mode & 0o777, 0o755);
    // Every RECORD line matches the bytes installed (the file the image's pip would verify).
    const record = await readFile(join(root, SITE, 'epsilon-1.0.dist-info/RECORD'), 'utf8');
    for (const line of record.trim().split('\n')) {
      const [p, h, size] = line.split(',');
      if (!h) continue;
      const data = await readFile(join(root, SITE, p as string));
      assert.equal(`sha256=${createHash('sha256').update(data).digest('base64url')}`, h, p);
      assert.equal(String(data.length), size);
    }
    assert.match(record, /^\.\.\/\.\.\/\.\.\/bin\/eps-tool,/m);
    // Import it all with the host Python (the C extension too) and run the console scripts.
    const env = { ...process.env, PYTHONPATH: join(root, SITE), PYTHONNOUSERSITE: '1' };
    const imp = spawnSync(
      PY,
      [
        '-I',
        '-c',
        'import sys; sys.path.insert(0, sys.argv[1]); import alpha, beta, gamma.cli, epsilon, epsilon_extra, speedy, nspkg.a, nspkg.b; print(alpha.__version__, beta.__version__, speedy.add(2, 3)); import importlib.metadata as m; print(m.version("alpha"), m.version("speedy"))',
        join(root, SITE),
      ],
      { encoding: 'utf8', env },
    );
    assert.equal(imp.status, 0, imp.stderr);
    assert.equal(imp.stdout, '2.0 1.5 5\n2.0 1.0\n');
    const cli = spawnSync(join(root, '/usr/local/bin/gamma-cli'), [], { encoding: 'utf8', env });
    assert.equal(cli.stdout, 'gamma-cli ok\n', cli.stderr);
    const eps = spawnSync(join(root, '/usr/local/bin/eps-tool'), [], { encoding: 'utf8', env });
    assert.equal(eps.stdout, 'eps-tool 1.0\n', eps.stderr);
  });

  test('deterministic: two installs give identical entries and bytes; big packages get their own group', async () => {
    const snapshot = async (big?: number) => {
      const groups = await installWheels(res, {
        sitePackages: SITE,
        interpreter: '/usr/bin/python3',
        cacheDir: cache,
        bigPackageBytes: big,
      });
      const h = createHash('sha256');
      for (const g of groups) {
        h.update(`${g.name}\n`);
        for (const e of g.entries) {
          h.update(`${e.path} ${e.type} ${e.mode}\n`);
          if (e.type === 'file') for await (const c of await e.open()) h.update(c as Buffer);
        }
      }
      return { groups, digest: h.digest('hex') };
    };
    const a = await snapshot();
    const b = await snapshot();
    assert.equal(a.digest, b.digest);
    assert.equal(a.groups[0]?.contentKey, b.groups[0]?.contentKey);
    // Second run came from the verified-plan cache; a different interpreter gives other bytes and another key.
    const other = await installWheels(res, {
      sitePackages: SITE,
      interpreter: '/opt/py/bin/python',
      cacheDir: cache,
    });
    assert.notEqual(other[0]?.contentKey, a.groups[0]?.contentKey);
    // With a 10 kB threshold, the C extension wheel (its .so is bigger) is split out.
    const split = await snapshot(10_000);
    assert.deepEqual(
      split.groups.map((g) => g.name),
      ['python-speedy', 'python-packages'],
    );
    assert.deepEqual(split.groups[0]?.packages, [{ name: 'speedy', version: '1.0' }]);
    assert.ok(split.groups[0]?.entries.every((e) => e.path.includes('speedy')));
  });

  test('warm cache: resolving and installing again only revalidates index pages', async () => {
    const d = await tmp();
    await writeFile(join(d, 'r.txt'), 'alpha[fast]\nspeedy\nnsa\nnsb\n');
    const once = async () => {
      const r = await resolvePython({
        requirements: { file: join(d, 'r.txt') },
        indexes: { indexUrl: idx.url },
        target: TARGET,
        cacheDir: join(d, 'cache'),
        env: {},
      });
      await installWheels(r, { sitePackages: SITE, interpreter: PY, cacheDir: join(d, 'cache') });
    };
    await once();
    const before = idx.requests.length;
    await once();
    const reqs = idx.requests.slice(before);
    assert.ok(
      reqs.length > 0 && reqs.every((q) => q.url.startsWith('/simple/') && q.status === 304),
      JSON.stringify(reqs),
    );
  });

  test('bad wheels: RECORD mismatch, zip-slip, hash mismatch on download', async () => {
    const d = await tmp();
    const install = async (reqs: string, cacheDir = join(d, 'c')) => {
      await writeFile(join(d, 'r.txt'), reqs);
      const r = await resolvePython({
        requirements: { file: join(d, 'r.txt') },
        indexes: { indexUrl: idx.url },
        target: TARGET,
        cacheDir,
        env: {},
      });
      return installWheels(r, { sitePackages: SITE, interpreter: PY, cacheDir });
    };
    const z64 = await install('omega\n');
    assert.ok(
      z64[0]?.entries.some((e) => e.path === `${SITE}/omega/__init__.py`),
      'zip64 wheel installs',
    );
    const tampered = {
      code: 'E_PIP_WHEEL_RECORD',
      message: /tampered-1\.0-py3-none-any\.whl: tampered\/__init__\.py does not match its RECORD hash/,
    };
    // The index gave the wheel's hash, so members are checked as the layer streams them (one read).
    const groups = await install('tampered\n');
    const member = groups.flatMap((g) => g.entries).find((e) => e.path === `${SITE}/tampered/__init__.py`);
    assert.ok(member?.type === 'file');
    await assert.rejects(async () => {
      for await (const _ of await member.open());
    }, tampered);
    // No hash from the index: every member is checked before the wheel is accepted.
    const bare = await startPyIndex({ dir: await fixtureWheels(), flavour: 'json', noHashes: true });
    try {
      await writeFile(join(d, 'r.txt'), 'tampered\n');
      const r = await resolvePython({
        requirements: { file: join(d, 'r.txt') },
        indexes: { indexUrl: bare.url },
        target: TARGET,
        cacheDir: join(d, 'bare'),
        env: {},
      });
      await assert.rejects(
        installWheels(r, { sitePackages: SITE, interpreter: PY, cacheDir: join(d, 'bare') }),
        tampered,
      );
    } finally {
      await bare.close();
    }
    await assert.rejects(install('slip\n'), {
      code: 'E_PIP_WHEEL_UNSAFE_PATH',
      message: /"\.\.\/\.\.\/etc\/evil"/,
    });
    const good = res.packages.find((p) => p.key === 'beta');
    const bad: Resolution = {
      ...res,
      packages: [{ ...(good as Resolution['packages'][number]), sha256: 'f'.repeat(64), allowedHashes: [] }],
    };
    await assert.rejects(
      installWheels(bad, { sitePackages: SITE, interpreter: PY, cacheDir: join(d, 'fresh') }),
      {
        code: 'E_PIP_HASH_MISMATCH',
        message: /beta-1\.5-py3-none-any\.whl: expected sha256 f{64}, got [0-9a-f]{64}/,
      },
    );
  });

  test('cross-check: same files and versions as pip install --target --platform', async (t) => {
    const pipCheck = spawnSync('python3', ['-m', 'pip', '--version']);
    if (pipCheck.status !== 0) return t.skip('pip is not available on this host');
    const target = await tmp();
    // Asynchronous: the index answers from this very process.
    const r = await run(
      'python3',
      [
        '-m',
        'pip',
        'install',
        '--isolated',
        '--disable-pip-version-check',
        '--no-cache-dir',
        '--no-compile',
        '--target',
        target,
        '--platform',
        'manylinux2014_x86_64',
        '--python-version',
        '3.11',
        '--only-binary=:all:',
        '--index-url',
        idx.url,
        'alpha[fast]',
        'speedy',
        'nsa',
        'nsb',
      ],
      { ...process.env, PIP_CONFIG_FILE: '/dev/null' },
    );
    assert.equal(r.status, 0, r.stderr);
    const groups = await installWheels(res, {
      sitePackages: SITE,
      interpreter: PY,
      binDir: '/usr/local/bin',
      cacheDir: cache,
    });
    const root = await tmp();
    await materialize(groups, root);
    const noise = /(^|\/)(INSTALLER|REQUESTED|direct_url\.json)$|__pycache__/;
    const ours = (await walk(join(root, SITE))).filter((p) => !noise.test(p));
    const pips = (await walk(target)).filter((p) => !noise.test(p) && !/^(bin|include|share)\//.test(p));
    assert.deepEqual(ours, pips);
    const pipBin = (await walk(join(target, 'bin'))).sort();
    assert.deepEqual((await walk(join(root, 'usr/local/bin'))).sort(), pipBin);
    // Same bytes for every file except RECORD (pip lists its own INSTALLER/REQUESTED there).
    for (const p of ours.filter((x) => !x.endsWith('/RECORD'))) {
      assert.deepEqual(await readFile(join(root, SITE, p)), await readFile(join(target, p)), p);
    }
  });
});
