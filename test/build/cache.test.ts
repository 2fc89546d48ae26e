/**
 * The layer cache through the real CLI against a real registry: what a warm build skips, what one
 * changed file rebuilds, builds sharing a cache folder at once, pruning, and the registry cache.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { cogtsBin, repoRoot } from '../helpers/paths.js';
import { type BuildFixture, buildFixture, cogtsBuild, newCacheDir, newProject } from './fixture.js';

const bundled = existsSync(join(repoRoot, 'dist', 'runtime', 'server.mjs'));

/** Blob files by name with their inode: a rewritten blob (temp + rename) gets a new inode. */
function blobFiles(cacheDir: string): Map<string, number> {
  const dir = join(cacheDir, 'blobs', 'sha256');
  return new Map(readdirSync(dir).map((n) => [n, statSync(join(dir, n)).ino]));
}

// biome-ignore lint/suspicious/noExplicitAny: build summary JSON
const outcomes = (json: any): Record<string, string> =>
  Object.fromEntries(json.layers.map((l: { id: string; outcome: string }) => [l.id, l.outcome]));

describe('layer cache', { skip: !bundled && 'run `npm run build` first (bundles the server)' }, () => {
  let f: BuildFixture;
  before(async () => {
    f = await buildFixture();
  });
  after(async () => {
    await f?.stop();
  });

  test('a warm build is all cache hits with the same digest; one changed file rebuilds only the code layer', async () => {
    const project = newProject(f);
    const cache = newCacheDir(f);
    const ref = `${f.reg.host}/cache/warm:1`;
    const cold = await cogtsBuild(f, project, ref, cache);
    assert.equal(cold.status, 0, cold.stderr);
    assert.ok(
      Object.values(outcomes(cold.json)).every((o) => o === 'built'),
      JSON.stringify(cold.json.layers),
    );
    assert.deepEqual(
      cold.json.layers.map((l: { id: string }) => l.id),
      ['runtime', 'code'],
    );
    const blobsBefore = blobFiles(cache);

    const warm = await cogtsBuild(f, project, ref, cache);
    assert.equal(warm.status, 0, warm.stderr);
    assert.equal(warm.json.digest, cold.json.digest);
    assert.deepEqual(outcomes(warm.json), { runtime: 'cached', code: 'cached' });
    assert.deepEqual(blobFiles(cache), blobsBefore, 'a cache hit writes no blob');
    assert.equal(warm.json.upload.bytesUploaded, 0);
    assert.deepEqual(warm.json.summary.layers, { built: 0, cached: 2, remote: 0, empty: 1 });

    writeFileSync(join(project, 'data.txt'), 'other model data\n');
    const changed = await cogtsBuild(f, project, ref, cache);
    assert.equal(changed.status, 0, changed.stderr);
    assert.deepEqual(outcomes(changed.json), { runtime: 'cached', code: 'built' });
    assert.notEqual(changed.json.digest, cold.json.digest);
    const code = changed.json.layers.find((l: { id: string }) => l.id === 'code');
    // Only the new code layer and the new config travel.
    assert.equal(changed.json.summary.blobs.uploaded, 2);
    assert.ok(changed.json.upload.bytesUploaded < code.size + 64 * 1024, JSON.stringify(changed.json.upload));
  });

  test('concurrent builds share one cache folder', async () => {
    const cache = newCacheDir(f);
    const project = newProject(f);
    const runs = await Promise.all(
      [1, 2, 3].map((i) => cogtsBuild(f, project, `${f.reg.host}/cache/concurrent-${i}:1`, cache)),
    );
    for (const r of runs) assert.equal(r.status, 0, r.stderr);
    const digests = new Set(runs.map((r) => r.json.digest));
    assert.equal(digests.size, 1, 'same inputs, same image');
    const again = await cogtsBuild(f, project, `${f.reg.host}/cache/concurrent:again`, cache);
    assert.equal(again.status, 0, again.stderr);
    assert.deepEqual(outcomes(again.json), { runtime: 'cached', code: 'cached' });
    assert.equal(again.json.digest, runs[0]?.json.digest);
    const leftovers = readdirSync(join(cache, 'blobs', 'sha256')).filter((n) => n.startsWith('.tmp'));
    assert.deepEqual(leftovers, []);
    assert.deepEqual(
      readdirSync(join(cache, 'index')).filter((n) => n.endsWith('.tmp')),
      [],
    );
  });

  test('prune bounds the size, least recently used first', async () => {
    const project = newProject(f);
    const cache = newCacheDir(f);
    const first = await cogtsBuild(f, project, `${f.reg.host}/cache/prune:1`, cache);
    assert.equal(first.status, 0, first.stderr);
    writeFileSync(join(project, 'data.txt'), 'v2\n');
    const second = await cogtsBuild(f, project, `${f.reg.host}/cache/prune:2`, cache);
    assert.equal(second.status, 0, second.stderr);
    const cli = (...args: string[]) => {
      const r = spawnSync(process.execPath, [cogtsBin, 'cache', ...args, '--cache-dir', cache, '--json'], {
        encoding: 'utf8',
      });
      assert.equal(r.status, 0, `cogts cache ${args.join(' ')}: ${r.stderr}${r.stdout}`);
      return JSON.parse(r.stdout);
    };
    const before = cli('ls');
    const runtimeBytes = second.json.layers.find((l: { id: string }) => l.id === 'runtime').size;
    assert.ok(before.bytes > runtimeBytes, JSON.stringify(before));
    // Room for the newest entries only: the first build's code layer (least recently used) goes.
    const limit = before.bytes - 1;
    const pruned = cli('prune', '--max-size', String(limit), '--keep-recent', '0');
    assert.ok(pruned.bytesAfter <= limit);
    assert.ok(pruned.removed.length >= 1);
    const oldCode = first.json.layers.find((l: { id: string }) => l.id === 'code');
    assert.ok(
      !existsSync(join(cache, 'blobs', 'sha256', oldCode.digest.slice(7))),
      'the oldest layer blob is gone',
    );
    const runtime = second.json.layers.find((l: { id: string }) => l.id === 'runtime');
    assert.ok(existsSync(join(cache, 'blobs', 'sha256', runtime.digest.slice(7))), 'recent blobs stay');

    const none = cli('prune', '--max-size', '0', '--keep-recent', '0');
    assert.equal(none.bytesAfter, 0);
    assert.equal(cli('ls').items.length, 0);
    // An emptied cache is a cold cache, not an error.
    const rebuilt = await cogtsBuild(f, project, `${f.reg.host}/cache/prune:3`, cache);
    assert.equal(rebuilt.status, 0, rebuilt.stderr);
    assert.deepEqual(outcomes(rebuilt.json), { runtime: 'built', code: 'built' });
    assert.equal(rebuilt.json.digest, second.json.digest);
  });

  test('--cache-to, then a fresh cache folder with --cache-from builds no layer', async () => {
    const project = newProject(f);
    const cacheRef = `${f.reg.host}/cache/shared:buildcache`;
    const first = await cogtsBuild(f, project, `${f.reg.host}/cache/ci:1`, newCacheDir(f), [
      '--cache-to',
      cacheRef,
    ]);
    assert.equal(first.status, 0, first.stderr);
    assert.equal(first.json.cacheExport.records, 2);
    const inspect = spawnSync('skopeo', ['inspect', '--raw', '--tls-verify=false', `docker://${cacheRef}`], {
      encoding: 'utf8',
    });
    assert.equal(inspect.status, 0, inspect.stderr);
    const manifest = JSON.parse(inspect.stdout);
    assert.equal(manifest.artifactType, 'application/vnd.cogts.cache.v1+json');
    assert.equal(manifest.layers.length, 2);

    const fresh = await cogtsBuild(f, project, `${f.reg.host}/cache/ci-fresh:1`, newCacheDir(f), [
      '--cache-from',
      cacheRef,
    ]);
    assert.equal(fresh.status, 0, fresh.stderr);
    assert.deepEqual(outcomes(fresh.json), { runtime: 'remote', code: 'remote' });
    assert.equal(fresh.json.digest, first.json.digest);
    assert.equal(fresh.json.upload.bytesUploaded, fresh.json.summary.bytes.uploaded);
    // The layers (and the base's) are mounted from other repositories; only the config travels.
    assert.equal(fresh.json.summary.blobs.uploaded, 1, JSON.stringify(fresh.json.summary));
    assert.ok(fresh.json.summary.blobs.mounted >= 2, JSON.stringify(fresh.json.summary));
  });

  test('--progress json writes one parseable event per line', async () => {
    const project = newProject(f);
    const r = await cogtsBuild(f, project, `${f.reg.host}/cache/progress:1`, newCacheDir(f), [
      '--progress',
      'json',
    ]);
    assert.equal(r.status, 0, r.stderr);
    const events = r.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.ok(events.every((e) => typeof e.type === 'string' && typeof e.time === 'number'));
    const done = events.filter((e) => e.type === 'layer' && e.status === 'built').map((e) => e.id);
    // Layers are produced concurrently: any order.
    assert.deepEqual(done.sort(), ['code', 'runtime']);
    const summary = events.find((e) => e.type === 'summary');
    assert.equal(summary.summary.layers.built, 2);
    assert.ok(summary.summary.phases.layers > 0);
    assert.ok(events.some((e) => e.type === 'blob' && e.result === 'uploaded'));
  });

  test('--progress json: cached layers pushed to a new repository report upload bytes up to their size', async () => {
    const project = newProject(f);
    const cache = newCacheDir(f);
    const first = await cogtsBuild(f, project, `${f.reg.host}/cache/upload-a:1`, cache);
    assert.equal(first.status, 0, first.stderr);
    const r = await cogtsBuild(f, project, `${f.reg.host}/cache/upload-b:1`, cache, ['--progress', 'json']);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(outcomes(r.json), { runtime: 'cached', code: 'cached' });
    const events = r.stderr
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const runtime = r.json.layers.find((l: { id: string }) => l.id === 'runtime');
    const uploads = events.filter((e) => e.type === 'bytes' && e.stage === 'upload' && e.id === 'runtime');
    assert.ok(uploads.length >= 1, 'the runtime layer upload reports progress');
    assert.equal(uploads.at(-1).bytes, runtime.size);
    assert.equal(uploads.at(-1).total, runtime.size);
    // Throttled: a ~40 MB blob is a handful of events, not one per chunk.
    assert.ok(uploads.length < 50, `${uploads.length} events`);
  });
});
