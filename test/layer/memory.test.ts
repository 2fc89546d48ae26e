import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sparseLayerPeak } from './sparse-layer.js';

test('a layer far larger than the memory it may use streams through (512 MiB sparse file, RSS growth < 200 MiB)', async () => {
  const size = 512 << 20;
  const { layer, grewBy } = await sparseLayerPeak(size);
  assert.ok(layer.size > 0 && layer.size < size / 100, `zeros compress: ${layer.size}`);
  assert.ok(grewBy < 200 << 20, `RSS grew by ${Math.round(grewBy / 2 ** 20)} MiB`);
});
