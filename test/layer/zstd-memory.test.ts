import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compressionFor } from '../../src/layer/compression.js';
import { zstdPool } from '../../src/layer/zstd-pool.js';
import { sparseLayerPeak } from './sparse-layer.js';

// A process of its own (node --test runs each file apart), so the workers start inside the measure.
test('zstd: a 512 MiB layer streams through in bounded memory (RSS growth < 200 MiB + 40 MiB per worker)', async () => {
  const size = 512 << 20;
  const { layer, grewBy } = await sparseLayerPeak(size, {
    compression: compressionFor({ algorithm: 'zstd', level: 3 }),
  });
  assert.ok(layer.size > 0 && layer.size < size / 1000, `zeros compress: ${layer.size}`);
  // Each worker holds a V8 isolate and a wasm heap (~30 MiB measured at level 3).
  const allowed = (200 + 40 * zstdPool().size) << 20;
  assert.ok(grewBy < allowed, `RSS grew by ${Math.round(grewBy / 2 ** 20)} MiB`);
});
