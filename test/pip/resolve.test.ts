import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { resolvePython } from '../../src/pip/index.js';
import { type PyIndex, type PyIndexOptions, startPyIndex } from '../helpers/pyindex.js';
import { fixtureWheels, TARGET, tmp } from './helpers.js';

async function resolveWith(
  idx: PyIndex,
  reqs: string,
  extra: Partial<Parameters<typeof resolvePython>[0]> = {},
) {
  const d = await tmp();
  await writeFile(join(d, 'requirements.txt'), reqs);
  return resolvePython({
    requirements: { file: join(d, 'requirements.txt') },
    indexes: { indexUrl: idx.url },
    target: TARGET,
    cacheDir: join(d, 'cache'),
    env: {},
    ...extra,
  });
}
const pins = (r: Awaited<ReturnType<typeof resolvePython>>) =>
  r.packages.map((p) => `${p.key}==${p.version}`);

const flavours: [string, Omit<PyIndexOptions, 'dir'>][] = [
  ['JSON + PEP 658', { flavour: 'json', pep658: true }],
  ['JSON, range reads', { flavour: 'json' }],
  ['HTML + PEP 658', { flavour: 'html', pep658: true }],
  ['HTML, no ranges, no hashes (whole-wheel fallback)', { flavour: 'html', ranges: false, noHashes: true }],
];

for (const [label, o] of flavours) {
  describe(`resolution against a ${label} index`, () => {
    let idx: PyIndex;
    before(async () => {
      idx = await startPyIndex({
        dir: await fixtureWheels(),
        ...o,
        yanked: { 'beta-1.6-py3-none-any.whl': 'broken' },
        requiresPython: { 'oldpy-2.0-py3-none-any.whl': '<3.8' },
      });
    });
    after(() => idx.close());

    test('extras, target markers, yanked skipped, pre-releases excluded, requires-python', async () => {
      const r = await resolveWith(idx, 'alpha[fast]\nspeedy\noldpy\n');
      // delta (python<3.8) and zeta (aarch64) are out; epsilon (linux) is in although chosen on any host.
      assert.deepEqual(pins(r), [
        'alpha==2.0',
        'beta==1.5',
        'epsilon==1.0',
        'gamma==1.0',
        'oldpy==1.0',
        'speedy==1.0',
      ]);
      const via = r.stats;
      if (o.pep658) assert.ok((via.metadata_pep658 ?? 0) > 0, 'PEP 658 metadata used');
      else if (o.ranges !== false) assert.ok((via.metadata_range ?? 0) > 0, 'range reads used');
      else assert.ok((via.metadata_wheel ?? 0) > 0);
      if (o.ranges !== false)
        assert.equal(
          idx.requests.filter(
            (q) =>
              q.method === 'GET' && q.url.includes('/files/') && !q.range && !q.url.endsWith('.metadata'),
          ).length,
          0,
          'no whole wheel downloaded to learn dependencies',
        );
    });

    test('a yanked version is used when pinned exactly; --pre admits pre-releases', async () => {
      assert.ok(pins(await resolveWith(idx, 'beta==1.6\n')).includes('beta==1.6'));
      assert.ok(pins(await resolveWith(idx, '--pre\nbeta\n')).includes('beta==1.7rc1'));
      assert.ok(pins(await resolveWith(idx, 'beta>=1.7rc1\n')).includes('beta==1.7rc1'));
    });
  });
}

describe('resolution errors', () => {
  let idx: PyIndex;
  before(async () => {
    idx = await startPyIndex({
      dir: await fixtureWheels(),
      flavour: 'json',
      extraFiles: { onlysrc: ['onlysrc-1.0.tar.gz'] },
      garbage: ['broken'],
    });
  });
  after(() => idx.close());
  const fails = async (reqs: string, code: string, re: RegExp) =>
    assert.rejects(resolveWith(idx, reqs), (e: Error & { code?: string; hint?: string }) => {
      assert.equal(e.code, code, e.message);
      assert.match(`${e.message} | ${e.hint}`, re);
      return true;
    });

  test('unknown package', () =>
    fails(
      'alpha\nno-such-pkg>=1\n',
      'E_PIP_NOT_FOUND',
      /no-such-pkg \(.*requirements\.txt:2\) was not found on any index/,
    ));
  test('no wheel for the platform names the tags found', async () => {
    await fails(
      'winonly\n',
      'E_PIP_NO_WHEEL',
      /no wheel of winonly fits CPython 3\.11 on linux\/amd64 \(glibc 2\.35\); wheels found have tags: cp311-cp311-win_amd64/,
    );
    await fails('hostonly\n', 'E_PIP_NO_WHEEL', /cp311-cp311-linux_x86_64/);
    await fails(
      'onlysrc\n',
      'E_PIP_NO_WHEEL',
      /only source distributions.*onlysrc-1\.0\.tar\.gz.*\| .*wheel/,
    );
  });
  test('conflicting pins are explained', async () => {
    await fails(
      'torchy==2.1.0\ntritony==2.3.0\n',
      'E_PIP_CONFLICT',
      /torchy==2\.1\.0 requires tritony==2\.1\.0; you pinned tritony==2\.3\.0 \(.*requirements\.txt:2\)/,
    );
    await fails('beta==1.0\nalpha==2.0\nbeta>1.0\n', 'E_PIP_CONFLICT', /no version of beta satisfies/);
  });
  test('a missing constraints file is named', () =>
    fails('beta\n-c c.txt\n', 'E_PIP_REQUIREMENT', /requirements\.txt:2: cannot read included file c\.txt/));
  test('an index answering garbage', () =>
    fails('broken\n', 'E_PIP_INDEX', /is not a PEP 503\/691 page \(starts with "upstream connect error/));
  test('hash-checking mode', async () => {
    await fails(
      `beta==1.5 --hash=sha256:${'0'.repeat(64)}\n`,
      'E_PIP_HASH_MISMATCH',
      /hash mismatch for beta: beta-1\.5-py3-none-any\.whl has sha256 [0-9a-f]{64}; .*requirements\.txt:1 allows only 0{64}/,
    );
    await fails(
      `beta==1.5 --hash=sha256:${'0'.repeat(64)}\ngamma==1.0\n`,
      'E_PIP_HASH_REQUIRED',
      /requirements\.txt:2.*gamma/,
    );
    await fails(`alpha==1.0 --hash=sha256:${'0'.repeat(64)}\n`, 'E_PIP_HASH_MISMATCH', /alpha/);
  });
  test('another target: linux/arm64 flips platform markers and refuses the x86_64-only C extension', async () => {
    const arm = { pythonVersion: '3.11', platform: 'linux/arm64', glibc: '2.35' };
    assert.deepEqual(pins(await resolveWith(idx, 'alpha[fast]\n', { target: arm })), [
      'alpha==2.0',
      'beta==1.6',
      'epsilon==1.0',
      'gamma==1.0',
      'zeta==1.0',
    ]);
    await assert.rejects(resolveWith(idx, 'speedy\n', { target: arm }), {
      code: 'E_PIP_NO_WHEEL',
      message:
        /no wheel of speedy fits CPython 3\.11 on linux\/arm64 \(glibc 2\.35\); wheels found have tags: .*manylinux2014_x86_64/,
    });
    await assert.rejects(resolveWith(idx, 'speedy\n', { target: { pythonVersion: '3.12', glibc: '2.35' } }), {
      code: 'E_PIP_NO_WHEEL',
      message: /CPython 3\.12/,
    });
  });
  test('zip64 wheels: METADATA found through zip64 records by Range reads', async () => {
    const before = idx.requests.length;
    assert.deepEqual(pins(await resolveWith(idx, 'omega\n')), ['beta==1.0', 'omega==1.0']);
    const gets = idx.requests
      .slice(before)
      .filter((q) => q.url.startsWith('/files/omega') && q.method === 'GET');
    assert.ok(gets.length > 0 && gets.every((q) => q.status === 206));
  });
  test('an extra asked for after the package was chosen adds its dependencies', async () => {
    const r = await resolveWith(idx, 'alpha\nxi\n');
    assert.deepEqual(pins(r), ['alpha==2.0', 'beta==1.6', 'epsilon==1.0', 'gamma==1.0', 'xi==1.0']);
    assert.deepEqual(r.packages.find((p) => p.key === 'alpha')?.extras, ['fast']);
  });
  test('versions in an existing lock are preferred when they still fit', async () => {
    const pkg = (name: string, version: string) => ({
      name,
      version,
      filename: '',
      url: '',
      sha256: '0'.repeat(64),
      dependencies: [],
    });
    const lock = {
      lockVersion: 1 as const,
      pip: {
        inputs: '',
        target: TARGET,
        indexUrls: [],
        findLinks: [],
        packages: [pkg('alpha', '1.0'), pkg('beta', '1.0')],
      },
    };
    assert.deepEqual(pins(await resolveWith(idx, 'alpha\n', { lock })), ['alpha==1.0', 'beta==1.0']);
    // A lock entry that no longer fits the requirements is ignored.
    assert.deepEqual(pins(await resolveWith(idx, 'alpha>=2\n', { lock })), [
      'alpha==2.0',
      'beta==1.0',
      'epsilon==1.0',
    ]);
  });
  test('backtracking: a newer version whose pin clashes is dropped for an older one', async () => {
    assert.deepEqual(pins(await resolveWith(idx, 'kappa\nlam>=2.0\n')), ['kappa==1.0', 'lam==2.0']);
    // The clash only shows up two levels down (mu → nu → lam>=2 vs kappa 2.0 → lam==1.0).
    assert.deepEqual(pins(await resolveWith(idx, 'mu\n')), ['kappa==1.0', 'lam==2.0', 'mu==1.0', 'nu==1.0']);
  });
  test('local wheel files and direct URLs', async () => {
    const dir = await fixtureWheels();
    const r = await resolveWith(
      idx,
      `${join(dir, 'gamma-1.0-py3-none-any.whl')}\nbeta @ ${idx.filesUrl}beta-1.0-py3-none-any.whl\n`,
    );
    assert.deepEqual(pins(r), ['beta==1.0', 'gamma==1.0']);
    assert.ok(r.packages[1]?.url.startsWith('file://'));
    await fails(`${join(dir, 'winonly-1.0-cp311-cp311-win_amd64.whl')}\n`, 'E_PIP_NO_WHEEL', /win_amd64/);
  });
  test('requires-python from metadata when the index does not say', async () => {
    // This index has no data-requires-python; oldpy 2.0's METADATA says <3.8.
    assert.ok(pins(await resolveWith(idx, 'oldpy\n')).includes('oldpy==1.0'));
    await fails('oldpy==2.0\n', 'E_PIP_CONFLICT', /oldpy==2\.0 requires Python <3\.8/);
  });
});

describe('credentials', () => {
  test('from the index URL and from netrc', async () => {
    const idx = await startPyIndex({ dir: await fixtureWheels(), flavour: 'html', auth: 'bob:s3cret' });
    try {
      const withUrl = await resolveWith(idx, 'beta==1.0\n', {
        indexes: { indexUrl: idx.url.replace('//', '//bob:s3cret@') },
      });
      assert.deepEqual(pins(withUrl), ['beta==1.0']);
      assert.ok(!withUrl.indexUrls[0]?.includes('s3cret'), 'credentials are not kept in the resolution');
      await assert.rejects(resolveWith(idx, 'beta==1.0\n'), /answered 401[\s\S]*/);
      const d = await tmp();
      await writeFile(join(d, 'netrc'), 'machine 127.0.0.1 login bob password s3cret\n');
      const old = process.env.NETRC;
      process.env.NETRC = join(d, 'netrc');
      try {
        assert.deepEqual(pins(await resolveWith(idx, 'beta==1.0\n')), ['beta==1.0']);
      } finally {
        if (old === undefined) delete process.env.NETRC;
        else process.env.NETRC = old;
      }
    } finally {
      await idx.close();
    }
  });
});
