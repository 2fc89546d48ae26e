/** Pip plans in the local cache folder: stored whole, found by key, listed and pruned by last use. */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { cacheUsage, pruneCache } from '../../src/cache/prune.js';
import { isPipPlanRecord, LayerCache, type PipPlanRecord } from '../../src/cache/store.js';

const tmp = mkdtempSync(join(tmpdir(), 'cogts-pip-plan-unit-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(tmp, `c${++n}`);

const plan = (c: string, groups = 1): PipPlanRecord => ({
  key: c.repeat(64),
  groups: Array.from({ length: groups }, (_, i) => ({
    name: i === 0 ? 'python-packages' : `python-big${i}`,
    description: `pip: p${i}==1.0`,
    contentKey: `sha256:${String(i).repeat(64)}`,
  })),
});

test('a stored plan is found by its key; a damaged, mismatched or unknown one is a miss', async () => {
  const cache = new LayerCache(fresh());
  const p = plan('a', 2);
  assert.equal(await cache.lookupPipPlan(p.key), undefined);
  await cache.storePipPlan(p);
  assert.deepEqual(await cache.lookupPipPlan(p.key), p);
  assert.deepEqual(readdirSync(cache.pipPlanDir), [`${p.key}.json`], 'no temp file left');

  const file = join(cache.pipPlanDir, `${p.key}.json`);
  writeFileSync(file, '{"key": "trunc');
  assert.equal(await cache.lookupPipPlan(p.key), undefined);
  writeFileSync(file, JSON.stringify(plan('b')));
  assert.equal(await cache.lookupPipPlan(p.key), undefined, 'a file under another key');
  writeFileSync(
    file,
    JSON.stringify({ ...p, groups: [{ name: 'x', description: 'y', contentKey: 'md5:1' }] }),
  );
  assert.equal(await cache.lookupPipPlan(p.key), undefined, 'a group without a sha256 content key');
  assert.equal(await cache.lookupPipPlan('../../etc/passwd'), undefined);

  await cache.storePipPlan(p);
  await cache.removePipPlan(p.key);
  assert.equal(await cache.lookupPipPlan(p.key), undefined);
});

test('the shape check accepts plans and nothing else', () => {
  assert.ok(isPipPlanRecord(plan('c', 3)));
  assert.ok(isPipPlanRecord({ key: 'c'.repeat(64), groups: [] }));
  for (const bad of [
    null,
    'x',
    { key: 'short', groups: [] },
    { key: 'c'.repeat(64) },
    { key: 'c'.repeat(64), groups: [1] },
  ])
    assert.equal(isPipPlanRecord(bad), false, JSON.stringify(bad));
});

test('cache ls counts plans (not as downloads); prune removes them by last use, temp leftovers too', async () => {
  const dir = fresh();
  const cache = new LayerCache(dir);
  const old = plan('1', 3);
  const recent = plan('2', 1);
  await cache.storePipPlan(old);
  await cache.storePipPlan(recent);
  const leftover = join(cache.pipPlanDir, `${'3'.repeat(64)}.json.123-abcd.tmp`);
  writeFileSync(leftover, '{"key":');
  const now = Date.now();
  const age = (file: string, secs: number) =>
    utimesSync(file, (now - secs * 1000) / 1000, (now - secs * 1000) / 1000);
  age(join(cache.pipPlanDir, `${old.key}.json`), 300);
  age(leftover, 200);
  age(join(cache.pipPlanDir, `${recent.key}.json`), 100);

  const usage = await cacheUsage(dir);
  assert.deepEqual(
    usage.items.map((i) => [i.kind, i.name.slice(0, 1), i.what]),
    [
      ['plan', '1', 'pip 3 layer(s)'],
      ['plan', '3', undefined],
      ['plan', '2', 'pip 1 layer(s)'],
    ],
  );
  assert.ok(usage.items.every((i) => i.bytes > 0));
  assert.equal(
    usage.bytes,
    usage.items.reduce((s, i) => s + i.bytes, 0),
  );
  assert.deepEqual(usage.downloads, [], 'pip-plans is not a download cache');

  // Room for the newest plan only.
  const newest = usage.items[2]?.bytes ?? 0;
  const r = await pruneCache(dir, { maxSize: newest, keepRecentMs: 0 });
  assert.deepEqual(
    r.removed.map((i) => i.name.slice(0, 1)),
    ['1', '3'],
  );
  assert.equal(await cache.lookupPipPlan(old.key), undefined);
  assert.ok(!existsSync(leftover));
  assert.deepEqual(await cache.lookupPipPlan(recent.key), recent);
  await pruneCache(dir, { maxSize: 0, keepRecentMs: 0 });
  assert.deepEqual((await cacheUsage(dir)).items, []);
});
