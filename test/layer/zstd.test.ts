/**
 * The zstd layer compressor: frames that the zstd CLI, fzstd and cogts's own layer reader decode
 * as one stream; output independent of input chunking and pool size; settings in the key.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import { decompress } from 'fzstd';
import { writeSettings } from '../../src/build/produce.js';
import { layerKey } from '../../src/cache/keys.js';
import { CogtsError } from '../../src/errors.js';
import { buildLayer } from '../../src/layer/build.js';
import { cachedLayer } from '../../src/layer/cache.js';
import { compressionFor, compressionKey, createCompressor } from '../../src/layer/compression.js';
import { bufferEntry } from '../../src/layer/entry.js';
import { PieceCompressor } from '../../src/layer/pieces.js';
import { DEFAULT_ZSTD, ParallelZstd, type ZstdSettings, zstdKey } from '../../src/layer/zstd.js';
import { ZstdPool } from '../../src/layer/zstd-pool.js';
import { MediaType } from '../../src/oci/media-types.js';
import { decompressLayer } from '../../src/rootfs/decompress.js';

/** Compressible but not trivial: text-like runs with some noise, so frames differ by level. */
function sample(bytes: number): Buffer {
  const words = ['torch', 'numpy', 'weights', 'layer', 'predict', '\n', ' ', '/usr/lib/'];
  const out = Buffer.alloc(bytes);
  let x = 12345;
  for (let i = 0; i < bytes; ) {
    x = (x * 1103515245 + 12345) >>> 0;
    const w = x % 11 === 0 ? randomish(x) : words[x % words.length]!;
    i += out.write(w, i);
  }
  return out;
}

function randomish(x: number): string {
  return (x >>> 8).toString(36);
}

/** Runs `data` through `t`, fed in `chunk`-byte writes; returns the output bytes. */
async function through(t: NodeJS.ReadWriteStream, data: Buffer, chunk = 65536): Promise<Buffer> {
  const parts: Buffer[] = [];
  const src = Readable.from(
    (function* () {
      for (let o = 0; o < data.length; o += chunk) yield data.subarray(o, o + chunk);
    })(),
  );
  await pipeline(
    src,
    t,
    new Writable({
      write(c: Buffer, _e, cb) {
        parts.push(c);
        cb();
      },
    }),
  );
  return Buffer.concat(parts);
}

const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);

function cli(args: string[], input: Buffer): Buffer {
  return execFileSync('zstd', args, { input, maxBuffer: 256 << 20 });
}

/** Frames as `zstd -lv` counts them (the CLI walks the frame headers). */
function frameCount(blob: Buffer): number {
  const dir = mkdtempSync(join(tmpdir(), 'cogts-zstd-'));
  try {
    writeFileSync(join(dir, 'b.zst'), blob);
    const out = execFileSync('zstd', ['-lv', join(dir, 'b.zst')], { encoding: 'utf8' });
    const m = /# Zstandard Frames:\s*(\d+)/.exec(out);
    assert.ok(m, out);
    return Number(m[1]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const small: ZstdSettings = { ...DEFAULT_ZSTD, chunkSize: 100_000, parallel: 3 };

test('zstd: many pieces are many frames, decoded as one stream by the zstd CLI, fzstd and decompressLayer', async () => {
  const data = Buffer.concat([sample(700_000), randomBytes(150_000), sample(123_457)]);
  const blob = await through(new ParallelZstd(small), data);
  assert.deepEqual(blob.subarray(0, 4), ZSTD_MAGIC);
  assert.equal(frameCount(blob), Math.ceil(data.length / small.chunkSize));
  assert.ok(blob.length < data.length * 0.8, `compressed ${blob.length} of ${data.length}`);
  assert.ok(cli(['-dc'], blob).equals(data), 'zstd -dc');
  assert.ok(Buffer.from(decompress(blob)).equals(data), 'fzstd decompress (multi-frame)');
  const read: Buffer[] = [];
  for await (const c of decompressLayer(Readable.from([blob]))) read.push(c);
  assert.ok(Buffer.concat(read).equals(data), 'cogts layer reader (fzstd streaming)');
});

test('zstd: an empty input is one empty frame; a piece-sized input is one frame', async () => {
  const empty = await through(new ParallelZstd(small), Buffer.alloc(0));
  assert.deepEqual(empty.subarray(0, 4), ZSTD_MAGIC);
  assert.equal(frameCount(empty), 1);
  assert.equal(cli(['-dc'], empty).length, 0);
  assert.equal(decompress(empty).length, 0);
  const exact = sample(small.chunkSize);
  const one = await through(new ParallelZstd(small), exact, 7777);
  assert.equal(frameCount(one), 1);
  assert.ok(cli(['-dc'], one).equals(exact));
});

test('zstd: the same bytes whatever the input chunking and the number of workers', async () => {
  const data = Buffer.concat([sample(450_000), randomBytes(60_000)]);
  const a = await through(new ParallelZstd(small), data, 65536);
  const b = await through(new ParallelZstd(small), data, 1_000_000);
  const c = await through(new ParallelZstd({ ...small, parallel: 1 }, new ZstdPool(1)), data, 4096);
  assert.ok(a.equals(b), 'one big write vs many small');
  assert.ok(a.equals(c), 'one worker vs the shared pool');
});

test('zstd: the level changes the bytes and the key; the key names the library and its version', async () => {
  const data = sample(300_000);
  const l3 = await through(new ParallelZstd(small), data);
  const l19 = await through(new ParallelZstd({ ...small, level: 19 }), data);
  assert.notDeepEqual(l3, l19);
  assert.ok(l19.length < l3.length, `level 19 ${l19.length} vs level 3 ${l3.length}`);
  assert.ok(cli(['-dc'], l19).equals(data));
  assert.match(zstdKey(DEFAULT_ZSTD), /^zstd-l3-c4194304-@bokuweb\/zstd-wasm@\d+\.\d+\.\d+/);
  assert.notEqual(zstdKey({ ...DEFAULT_ZSTD, level: 4 }), zstdKey(DEFAULT_ZSTD));
  const zstd = compressionFor({ algorithm: 'zstd', level: 3 });
  const gzip = compressionFor({ algorithm: 'gzip', level: 3 });
  assert.notEqual(compressionKey(zstd), compressionKey(gzip));
  assert.equal(compressionKey(zstd), zstdKey(DEFAULT_ZSTD));
  // parallel is how fast, not what: it stays out of the key.
  assert.equal(zstdKey({ ...DEFAULT_ZSTD, parallel: 1 }), zstdKey(DEFAULT_ZSTD));
  const viaFactory = await through(createCompressor({ ...zstd, chunkSize: small.chunkSize }), data);
  assert.ok(viaFactory.equals(l3));
});

test('compressionFor: levels are checked per algorithm', () => {
  assert.equal(compressionFor({ algorithm: 'zstd', level: 19 }).level, 19);
  assert.equal(compressionFor({ algorithm: 'gzip', level: 0 }).level, 0);
  assert.throws(() => compressionFor({ algorithm: 'zstd', level: 0 }), /zstd compression level 0 .* 1-19/);
  assert.throws(() => compressionFor({ algorithm: 'gzip', level: 10 }), /gzip compression level 10 .* 0-9/);
  assert.throws(() => compressionFor({ algorithm: 'zstd', level: 2.5 }), /out of range/);
  assert.throws(
    () => compressionFor({ algorithm: 'brotli' as 'gzip', level: 1 }),
    /unknown layer compression "brotli"/,
  );
});

/** Records how many pieces are being compressed at once; "compresses" by reversing. */
class Probe extends PieceCompressor {
  active = 0;
  peak = 0;
  sizes: number[] = [];
  protected override async compressPiece(piece: Buffer): Promise<Buffer> {
    this.sizes.push(piece.length);
    this.active++;
    this.peak = Math.max(this.peak, this.active);
    await new Promise((r) => setTimeout(r, 2 + (this.sizes.length % 3)));
    this.active--;
    return Buffer.from(piece).reverse();
  }
}

test('pieces: fixed boundaries, order kept, never more than `parallel` in flight even inside one big write', async () => {
  const data = sample(1_050_000);
  const p = new Probe(100_000, 3);
  const out = await through(p, data, data.length); // one write of ten and a half pieces
  assert.equal(p.peak, 3);
  assert.deepEqual(p.sizes, [...Array(10).fill(100_000), 50_000]);
  const expected = Buffer.concat(
    p.sizes.map((_, i) => Buffer.from(data.subarray(i * 100_000, (i + 1) * 100_000)).reverse()),
  );
  assert.ok(out.equals(expected));
  const empty = new Probe(10, 2);
  await through(empty, Buffer.alloc(0));
  assert.deepEqual(empty.sizes, [0], 'one empty piece for an empty stream');
});

test('buildLayer/cachedLayer with zstd: tar+zstd media type, the gzip diff_id, a cache key of its own', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cogts-zstd-cache-'));
  try {
    const text = sample(200_000);
    const noise = randomBytes(5000);
    const entries = () => [bufferEntry('/src/a.txt', text), bufferEntry('/src/b.bin', noise)];
    const zstd = compressionFor({ algorithm: 'zstd', level: 3 });
    const z = await buildLayer(entries(), { blobDir: dir, compression: zstd, mtime: 0 });
    const g = await buildLayer(entries(), { blobDir: dir, mtime: 0 });
    assert.equal(z.mediaType, MediaType.ociLayerZstd);
    assert.equal(g.mediaType, MediaType.ociLayerGzip);
    assert.equal(z.diffId, g.diffId, 'same tar');
    assert.notEqual(z.digest, g.digest);
    const blob = readFileSync(join(dir, 'sha256', z.digest.slice(7)));
    assert.equal(
      `sha256:${createHash('sha256')
        .update(cli(['-dc'], blob))
        .digest('hex')}`,
      z.diffId,
    );

    let calls = 0;
    const src = () => {
      calls++;
      return entries();
    };
    const cache = join(dir, 'cache');
    const gz1 = await cachedLayer(cache, 'k', src, { mtime: 0 });
    const z1 = await cachedLayer(cache, 'k', src, { mtime: 0, compression: zstd });
    assert.equal(calls, 2, 'a gzip record is not a zstd hit');
    assert.equal(z1.cached, false);
    const z2 = await cachedLayer(cache, 'k', src, { mtime: 0, compression: zstd });
    const gz2 = await cachedLayer(cache, 'k', src, { mtime: 0 });
    assert.equal(calls, 2);
    assert.deepEqual([z2.cached, z2.digest, z2.mediaType], [true, z.digest, MediaType.ociLayerZstd]);
    assert.deepEqual([gz2.cached, gz2.digest, gz2.mediaType], [true, gz1.digest, MediaType.ociLayerGzip]);

    const zs = writeSettings(zstd);
    const gs = writeSettings();
    assert.equal(zs.mediaType, MediaType.ociLayerZstd);
    assert.notEqual(layerKey('code', { a: 1 }, zs), layerKey('code', { a: 1 }, gs));
    assert.notEqual(
      layerKey('code', { a: 1 }, zs),
      layerKey('code', { a: 1 }, writeSettings(compressionFor({ algorithm: 'zstd', level: 4 }))),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('zstd: workers start under `node --input-type=module -e` too (that flag is not passed on to them)', () => {
  const url = new URL('../../src/layer/zstd.js', import.meta.url).href;
  const script = `import { ParallelZstd } from ${JSON.stringify(url)};
const t = new ParallelZstd();
const out = [];
t.on('data', (c) => out.push(c));
t.on('end', () => process.stdout.write(Buffer.concat(out)));
t.end(Buffer.from('hello zstd\\n'.repeat(100)));`;
  const blob = execFileSync(process.execPath, ['--input-type=module', '-e', script]);
  assert.equal(cli(['-dc'], blob).toString(), 'hello zstd\n'.repeat(100));
});

test('zstd pool: a piece the worker cannot read is an E_ZSTD error, and the worker serves the next piece', async () => {
  const pool = new ZstdPool(1);
  await assert.rejects(pool.compress(new ArrayBuffer(10), 5, 100, 3), (e: unknown) => {
    assert.ok(e instanceof CogtsError);
    assert.equal(e.code, 'E_ZSTD');
    assert.match(e.message, /zstd compression failed: .*(range|length|bounds)/i);
    return true;
  });
  const data = sample(50_000);
  const ab = new ArrayBuffer(data.length);
  data.copy(Buffer.from(ab));
  const frame = await pool.compress(ab, 0, data.length, 3);
  assert.equal(ab.byteLength, 0, 'the piece was transferred, not copied');
  assert.ok(cli(['-dc'], frame).equals(data));
});
