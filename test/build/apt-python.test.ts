/**
 * system_packages with the apt Python provider, through the real CLI, the real Debian archive (the
 * machine's configured mirror, as the debootstrapped base's sources name it) and a real registry.
 * Both must come from one apt resolution: two layers each carrying a dpkg status would hide the lower
 * layer's packages from dpkg in the image.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { imageLayoutFromRootfs, pushImage } from '../helpers/base-image.js';
import { testCacheDir } from '../helpers/cache.js';
import { debootstrapBase } from '../helpers/debootstrap.js';
import { repoRoot } from '../helpers/paths.js';
import { startRegistry } from '../helpers/registry.js';
import { unpackFromRegistry } from '../helpers/run-image.js';
import { type BuildFixture, cogtsBuild } from './fixture.js';

// biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own ${field} syntax.
const DPKG_FORMAT = '${Package} ${db:Status-Abbrev}\n';
const bundled = existsSync(join(repoRoot, 'dist', 'runtime', 'server.mjs'));

describe('system packages + the apt Python provider', {
  skip: !bundled && 'run `npm run build` first (bundles the server)',
  timeout: 900_000,
}, () => {
  let f: BuildFixture;
  let project: string;
  let cache: string;
  before(async () => {
    const reg = await startRegistry({});
    // No Python in the base: the apt provider must install it.
    const layout = imageLayoutFromRootfs(debootstrapBase({ suite: 'bookworm', variant: 'minbase' }), [
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    ]);
    const base = `${reg.host}/apt/base:minbase`;
    pushImage(layout, base);
    const tmp = mkdtempSync(join(tmpdir(), 'cogts-apt-python-'));
    f = { reg, base, tmp, stop: async () => reg.stop() };
    project = join(tmp, 'model');
    mkdirSync(project);
    writeFileSync(
      join(project, 'cog.yaml'),
      'build:\n  python_version: "3.11"\n  system_packages:\n    - jq\npredict: "predict.py:Predictor"\n',
    );
    writeFileSync(
      join(project, 'predict.py'),
      'from cog import BasePredictor\n\n\nclass Predictor(BasePredictor):\n    def predict(self, x: int) -> int:\n        return x\n',
    );
    cache = join(tmp, 'cache');
    mkdirSync(cache);
    // .debs and the Node download are kept between test runs.
    for (const [name, shared] of [
      ['apt', testCacheDir('apt-python-debs')],
      ['node', join(testCacheDir('e2e-build'), 'node')],
    ] as const) {
      mkdirSync(shared, { recursive: true });
      symlinkSync(shared, join(cache, name));
    }
  });
  after(async () => {
    await f?.stop();
    if (f) rmSync(f.tmp, { recursive: true, force: true });
  });

  test('one resolution: dpkg in the image knows both the system package and Python; a rebuild reuses the layer', async () => {
    const ref = `${f.reg.host}/apt/model:1`;
    const r = await cogtsBuild(f, project, ref, cache, ['--python-provider', 'apt']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /python 3\.11: apt .*installed with the system packages/);
    const image = unpackFromRegistry(ref);
    try {
      const root = join(image.bundle, 'rootfs');
      const sh = (...args: string[]) => execFileSync('chroot', [root, ...args], { encoding: 'utf8' });
      const listed = sh('dpkg-query', '-W', '-f', DPKG_FORMAT, 'jq', 'python3.11', 'libpython3.11');
      assert.match(listed, /^jq ii /m);
      assert.match(listed, /^python3\.11 ii /m);
      assert.match(listed, /^libpython3\.11 ii /m);
      assert.equal(sh('dpkg', '--audit').trim(), '', 'dpkg --audit finds nothing half-installed');
      assert.match(sh('jq', '--version'), /^jq-1\./);
      assert.equal(sh('python3.11', '-c', 'import ssl, sqlite3; print("ok")').trim(), 'ok');
      // The image's Python is the apt one (the server starts the runner with it).
      assert.ok(image.runtimeConfig.process.env.includes('COGTS_PYTHON=/usr/bin/python3.11'));
    } finally {
      image.cleanup();
    }
    writeFileSync(
      join(project, 'predict.py'),
      `${'# changed\n'}${'from cog import BasePredictor\n'}`.concat(
        '\n\nclass Predictor(BasePredictor):\n    def predict(self, x: int) -> int:\n        return x + 1\n',
      ),
    );
    const again = await cogtsBuild(f, project, `${f.reg.host}/apt/model:2`, cache, [
      '--python-provider',
      'apt',
    ]);
    assert.equal(again.status, 0, again.stderr);
    const outcome = Object.fromEntries(
      again.json.layers.map((l: { id: string; outcome: string }) => [l.id, l.outcome]),
    );
    assert.equal(outcome.apt, 'cached', JSON.stringify(again.json.layers));
    assert.equal(outcome.code, 'built');
  });
});
