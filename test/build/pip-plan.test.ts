/**
 * Pip plans through the real CLI, a real registry and a real package index: a build whose pip
 * layers are cached (locally or in a --cache-from registry cache) downloads no wheel; an index
 * without hashes keeps the download-first path; a stale plan fails the build and heals on a rerun.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  appendFileSync,
  cpSync,
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cogtsBin, fixturesDir, repoRoot } from '../helpers/paths.js';
import { buildFixtureWheels, type PyIndex, startPyIndex } from '../helpers/pyindex.js';
import { type BuildFixture, buildFixture, cogtsBuild, newCacheDir } from './fixture.js';

const bundled = existsSync(join(repoRoot, 'dist', 'runtime', 'server.mjs'));

// biome-ignore lint/suspicious/noExplicitAny: build summary JSON
const outcomes = (json: any): Record<string, string> =>
  Object.fromEntries(json.layers.map((l: { id: string; outcome: string }) => [l.id, l.outcome]));

/** Wheel downloads the index served since `from` (PEP 658 `.metadata` files are not wheels). */
const wheelGets = (index: PyIndex, from: number) =>
  index.requests.slice(from).filter((r) => new URL(r.url, 'http://x').pathname.endsWith('.whl'));

describe('pip plans', { skip: !bundled && 'run `npm run build` first (bundles the server)' }, () => {
  let f: BuildFixture;
  let index: PyIndex;
  let unhashed: PyIndex;
  let n = 0;
  before(async () => {
    f = await buildFixture();
    const wheels = await mkdtemp(join(tmpdir(), 'cogts-plan-wheels-'));
    buildFixtureWheels(wheels);
    index = await startPyIndex({ dir: wheels, flavour: 'json', pep658: true });
    unhashed = await startPyIndex({ dir: wheels, flavour: 'json', pep658: true, noHashes: true });
  });
  after(async () => {
    await index?.close();
    await unhashed?.close();
    await f?.stop();
  });

  /** A copy of the with-wheels model (alpha[fast], speedy: five wheels, one C extension). */
  const project = () => {
    const dir = join(f.tmp, `wheels-project-${++n}`);
    cpSync(join(fixturesDir, 'models', 'with-wheels'), dir, { recursive: true });
    return dir;
  };
  const build = (dir: string, cache: string, tag: string, idx: PyIndex, extra: string[] = []) =>
    cogtsBuild(f, dir, `${f.reg.host}/plan/model:${tag}`, cache, ['--index-url', idx.url, ...extra]);

  test('--cache-to, then a fresh cache folder with --cache-from: no layer built, no wheel downloaded', async () => {
    const dir = project();
    const cacheRef = `${f.reg.host}/plan/shared:buildcache`;
    const at = index.requests.length;
    const first = await build(dir, newCacheDir(f), 'ci-1', index, ['--cache-to', cacheRef]);
    assert.equal(first.status, 0, first.stderr);
    assert.equal(outcomes(first.json).pip, 'built', JSON.stringify(first.json.layers));
    assert.ok(wheelGets(index, at).length >= 5, 'the first build downloads the wheels');
    assert.equal(first.json.cacheExport.pipPlans, 1);

    const fresh = newCacheDir(f);
    const at2 = index.requests.length;
    const second = await build(dir, fresh, 'ci-2', index, ['--cache-from', cacheRef]);
    assert.equal(second.status, 0, second.stderr);
    assert.deepEqual(wheelGets(index, at2), [], 'no wheel requested');
    assert.ok(index.requests.length > at2, 'the requirements are still resolved against the index');
    assert.equal(second.json.summary.layers.built, 0, JSON.stringify(second.json.layers));
    assert.equal(outcomes(second.json).pip, 'remote');
    assert.equal(second.json.digest, first.json.digest);
    assert.match(second.stderr, /pip: layers known from the registry cache/);
    assert.ok(!existsSync(join(fresh, 'pip', 'wheels')), 'nothing in the wheel download cache');
  });

  test('same cache folder, changed predict.py, wheel downloads gone: pip layers cached, no wheel downloaded', async () => {
    const dir = project();
    const cache = newCacheDir(f);
    const first = await build(dir, cache, 'local-1', index);
    assert.equal(first.status, 0, first.stderr);
    assert.equal(readdirSync(join(cache, 'pip-plans')).length, 1);
    const ls = spawnSync(process.execPath, [cogtsBin, 'cache', 'ls', '--json', '--cache-dir', cache], {
      encoding: 'utf8',
    });
    assert.equal(ls.status, 0, ls.stderr);
    const usage = JSON.parse(ls.stdout);
    assert.ok(
      usage.items.some((i: { kind: string }) => i.kind === 'plan'),
      ls.stdout,
    );
    assert.ok(!usage.downloads.some((d: { name: string }) => d.name === 'pip-plans'));

    appendFileSync(join(dir, 'predict.py'), '\n# changed\n');
    // Without the wheel download cache, only the plan can tell the pip layers' keys.
    rmSync(join(cache, 'pip', 'wheels'), { recursive: true, force: true });
    const at = index.requests.length;
    const second = await build(dir, cache, 'local-2', index);
    assert.equal(second.status, 0, second.stderr);
    assert.deepEqual(wheelGets(index, at), []);
    assert.deepEqual(outcomes(second.json), { pip: 'cached', runtime: 'cached', code: 'built' });
    assert.match(second.stderr, /pip: layers known from the local cache/);
  });

  test('an index without hashes keeps the download-first path, and its layers still cache', async () => {
    const dir = project();
    const cache = newCacheDir(f);
    const at = unhashed.requests.length;
    const first = await build(dir, cache, 'nohash-1', unhashed);
    assert.equal(first.status, 0, first.stderr);
    assert.ok(wheelGets(unhashed, at).length >= 5);
    assert.ok(!existsSync(join(cache, 'pip-plans')), 'no plan without hashes');
    assert.doesNotMatch(first.stderr, /known from the/);
    const second = await build(dir, cache, 'nohash-2', unhashed);
    assert.equal(second.status, 0, second.stderr);
    assert.equal(outcomes(second.json).pip, 'cached');
    assert.equal(second.json.digest, first.json.digest);
  });

  test('a stale plan fails the build with E_PIP_PLAN_STALE and is removed, so a rerun builds', async () => {
    const dir = project();
    const cache = newCacheDir(f);
    const first = await build(dir, cache, 'stale-1', index);
    assert.equal(first.status, 0, first.stderr);
    const [name] = readdirSync(join(cache, 'pip-plans'));
    const file = join(cache, 'pip-plans', name as string);
    const plan = JSON.parse(readFileSync(file, 'utf8'));
    const original = plan.groups[0].contentKey;
    // What a plan made by different installer code would say: other content under the same key.
    plan.groups[0].contentKey = `sha256:${'0'.repeat(64)}`;
    writeFileSync(file, JSON.stringify(plan));

    const stale = await build(dir, cache, 'stale-2', index);
    assert.equal(stale.status, 1, stale.stderr);
    assert.match(stale.stderr, /E_PIP_PLAN_STALE|stale/);
    assert.ok(!existsSync(file), 'the stale plan is gone');

    const again = await build(dir, cache, 'stale-3', index);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(again.json.digest, first.json.digest);
    assert.equal(JSON.parse(readFileSync(file, 'utf8')).groups[0].contentKey, original, 'recorded anew');
  });
});
