import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { after, it } from 'node:test';
import { tarStream } from '../../src/layer/tar-stream.js';
import { rootfsFromLayers } from '../../src/rootfs/index.js';
import { aptPythonPackages, aptPythonProvider } from '../../src/sources/python/index.js';
import { debootstrapBase, testCacheRoot } from '../helpers/debootstrap.js';

const work = mkdtempSync(join(tmpdir(), 'cogts-aptpy-'));
after(() => rmSync(work, { recursive: true, force: true }));

// Real Debian archive (this machine's apt sources), downloads shared with test/apt in the test cache.
it('apt provider: python3.11 from Debian onto a minbase without Python runs in a chroot', {
  timeout: 600_000,
}, async () => {
  const base = debootstrapBase({ suite: 'bookworm', variant: 'minbase' });
  // The production path: the base as a layer stream, only the default content kept.
  const view = await rootfsFromLayers([
    () =>
      spawn('tar', ['--numeric-owner', '-C', base, '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] })
        .stdout,
  ]);
  assert.equal(view.exists('/usr/bin/python3.11'), false, 'the base starts without Python');
  assert.deepEqual(aptPythonPackages('3.11.4'), ['python3.11', 'libpython3.11']);

  const { runtime, report } = await aptPythonProvider({
    base: view,
    requested: '3.11',
    cacheDir: join(testCacheRoot, 'apt-cache'),
  });
  assert.equal(runtime.interpreter, '/usr/bin/python3.11');
  assert.equal(runtime.sitePackages, '/usr/local/lib/python3.11/dist-packages');
  assert.ok(
    runtime.lock.kind === 'apt' &&
      runtime.lock.packages.some((p) => p.name === 'python3.11-minimal' && /^[0-9a-f]{64}$/.test(p.sha256)),
  );
  assert.ok(report.packages.length >= 5);

  const root = join(work, 'rootfs');
  execFileSync('cp', ['-a', base, root]);
  const tar = spawn('tar', ['-x', '--keep-directory-symlink', '-C', root], {
    stdio: ['pipe', 'inherit', 'inherit'],
  });
  const exited = once(tar, 'exit');
  await pipeline(tarStream(runtime.entries), tar.stdin);
  assert.equal((await exited)[0], 0);

  assert.equal(readlinkSync(join(root, 'usr/local/bin/python3')), '/usr/bin/python3.11');
  const env = { PATH: '/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin', LC_ALL: 'C' };
  const out = execFileSync(
    'chroot',
    [
      root,
      'python3',
      '-c',
      'import ssl, sqlite3, ctypes, platform, site; print(platform.python_version()); print(site.getsitepackages())',
    ],
    {
      encoding: 'utf8',
      env,
    },
  ).split('\n');
  assert.equal(out[0], runtime.version, 'the version recorded from the .deb is the interpreter’s');
  assert.ok(out[1]?.includes(runtime.sitePackages), out[1]);
});
