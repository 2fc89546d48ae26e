import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { FileHashes } from '../../src/cache/file-hash.js';
import { canonicalJson, layerKey, type WriteSettings } from '../../src/cache/keys.js';
import { cacheUsage, parseSize, pruneCache } from '../../src/cache/prune.js';
import { LayerCache, type LayerRecord, layerFromRecord } from '../../src/cache/store.js';
import { buildLayer } from '../../src/layer/build.js';
import { bufferEntry } from '../../src/layer/entry.js';

const tmp = mkdtempSync(join(tmpdir(), 'cogts-cache-unit-'));
after(() => rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(tmp, `c${++n}`);

const settings: WriteSettings = { compression: 'gzip-x', mtime: 0, mediaType: 'm', writer: 'w' };

async function cached(cache: LayerCache, key: string, text: string, id = 'code'): Promise<LayerRecord> {
  const layer = await buildLayer([bufferEntry('/src/a.txt', text)], { blobDir: cache.blobDir });
  const rec: LayerRecord = { key, kind: 'code', id, ...layer };
  const { diffId, digest, size, mediaType } = layer;
  await cache.store({ key, kind: 'code', id, diffId, digest, size, mediaType });
  return rec;
}

test('keys: object key order does not matter; inputs and every write setting do', () => {
  assert.equal(canonicalJson({ b: 1, a: [{ y: 2, x: 1 }] }), '{"a":[{"x":1,"y":2}],"b":1}');
  const k = layerKey('code', { a: 1, b: 2 }, settings);
  assert.equal(k, layerKey('code', { b: 2, a: 1 }, { ...settings }));
  assert.match(k, /^[0-9a-f]{64}$/);
  assert.notEqual(k, layerKey('pip', { a: 1, b: 2 }, settings));
  assert.notEqual(k, layerKey('code', { a: 1, b: 3 }, settings));
  for (const change of [{ compression: 'zstd' }, { mtime: 1 }, { mediaType: 'n' }, { writer: 'v' }]) {
    assert.notEqual(k, layerKey('code', { a: 1, b: 2 }, { ...settings, ...change }), JSON.stringify(change));
  }
});

test('a stored record is found with its blob; a missing blob or a damaged record is a miss', async () => {
  const cache = new LayerCache(fresh());
  const key = 'a'.repeat(64);
  assert.equal(await cache.lookup(key), undefined);
  const rec = await cached(cache, key, 'hello');
  const hit = await cache.lookup(key);
  assert.equal(hit?.empty, undefined);
  assert.equal((hit as LayerRecord).digest, rec.digest);
  const layer = layerFromRecord(cache, hit as LayerRecord);
  const chunks: Buffer[] = [];
  for await (const c of await layer.open()) chunks.push(c as Buffer);
  assert.equal(Buffer.concat(chunks).length, rec.size);

  writeFileSync(join(cache.dir, 'index', `${key}.json`), '{"key": "trunc');
  assert.equal(await cache.lookup(key), undefined);
  await cached(cache, key, 'hello');
  rmSync(cache.blobPath(rec.digest));
  assert.equal(await cache.lookup(key), undefined);
  assert.equal(await cache.lookup('../../etc/passwd'), undefined);
});

test('prune removes least recently used first, keeps shared blobs, honours keep-recent', async () => {
  const dir = fresh();
  const cache = new LayerCache(dir);
  const old = await cached(cache, '1'.repeat(64), 'oldest '.repeat(1000));
  const mid = await cached(cache, '2'.repeat(64), 'middle '.repeat(2000));
  // Same content as `mid` under another key: one blob, two records.
  await cached(cache, '3'.repeat(64), 'middle '.repeat(2000));
  const now = Date.now();
  const age = (key: string, secs: number) =>
    utimesSync(join(dir, 'index', `${key}.json`), (now - secs * 1000) / 1000, (now - secs * 1000) / 1000);
  age('1'.repeat(64), 300);
  age('2'.repeat(64), 200);
  age('3'.repeat(64), 100);
  const usage = await cacheUsage(dir);
  assert.equal(usage.bytes, old.size + mid.size);
  assert.deepEqual(
    usage.items.map((i) => i.name[0]),
    ['1', '2', '3'],
  );

  const r1 = await pruneCache(dir, { maxSize: mid.size, keepRecentMs: 0 });
  assert.deepEqual(
    r1.removed.map((i) => i.name[0]),
    ['1'],
  );
  assert.equal(await cache.lookup('1'.repeat(64)), undefined);
  assert.ok(await cache.lookup('2'.repeat(64)));

  // Both records of the shared blob must go before the blob does.
  age('2'.repeat(64), 200);
  age('3'.repeat(64), 100);
  const r2 = await pruneCache(dir, { maxSize: 0, keepRecentMs: 150_000 });
  assert.deepEqual(
    r2.removed.map((i) => i.name[0]),
    ['2'],
  );
  assert.ok(await cache.lookup('3'.repeat(64)), 'the shared blob stays for the newer record');
  const r3 = await pruneCache(dir, { maxSize: 0, keepRecentMs: 0 });
  assert.equal(r3.bytesAfter, 0);
  assert.equal((await cacheUsage(dir)).items.length, 0);
});

test('parseSize', () => {
  assert.equal(parseSize('0'), 0);
  assert.equal(parseSize('10G'), 10 * 1024 ** 3);
  assert.equal(parseSize('1.5MiB'), 1.5 * 1024 ** 2);
  assert.equal(parseSize('512k'), 512 * 1024);
  assert.throws(() => parseSize('lots'), /not a size/);
});

test('file hashes are remembered by metadata and redone when a file changes', async () => {
  const dir = fresh();
  const file = join(tmp, 'weights.bin');
  writeFileSync(file, 'one');
  const past = (Date.now() - 60_000) / 1000;
  utimesSync(file, past, past);
  const a = await FileHashes.open(dir, 'scope');
  const h1 = await a.hash(file);
  assert.equal(h1, '7692c3ad3540bb803c020b3aee66cd8887123234ea0c6e7143c0add73ff431ed');
  await a.save();
  const b = await FileHashes.open(dir, 'scope');
  assert.equal(await b.hash(file), h1);
  writeFileSync(file, 'two');
  utimesSync(file, past, past);
  assert.notEqual(await b.hash(file), h1, 'same mtime, but the ctime moved: rehashed');
  // A file written just now is hashed but not remembered (it could change again within the same tick).
  writeFileSync(file, 'three');
  const c = await FileHashes.open(dir, 'scope2');
  await c.hash(file);
  await c.save();
  const d = await FileHashes.open(dir, 'scope2');
  assert.equal((d as unknown as { known: Map<string, unknown> }).known.size, 0);
});
