import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildLayer } from '../../src/layer/build.js';
import { compressionFor } from '../../src/layer/compression.js';
import { zstdPool } from '../../src/layer/zstd-pool.js';
import { codeEntries } from '../../src/sources/code.js';

// A process of its own (node --test runs each file apart), so the workers start inside the measure.
test('zstd: a 512 MiB layer streams through in bounded memory (RSS growth < 200 MiB + 40 MiB per worker)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cogts-zmem-'));
  try {
    const size = 512 << 20;
    writeFileSync(join(dir, 'big.bin'), '');
    truncateSync(join(dir, 'big.bin'), size); // sparse: costs no disk, reads as zeros
    const before = process.memoryUsage().rss;
    let peak = before;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const layer = await buildLayer(await codeEntries(dir), {
      blobDir: join(dir, 'blobs'),
      compression: compressionFor({ algorithm: 'zstd', level: 3 }),
    });
    clearInterval(timer);
    peak = Math.max(peak, process.memoryUsage().rss);
    assert.ok(layer.size > 0 && layer.size < size / 1000, `zeros compress: ${layer.size}`);
    // Each worker holds a V8 isolate and a wasm heap (~30 MiB measured at level 3).
    const allowed = (200 + 40 * zstdPool().size) << 20;
    assert.ok(peak - before < allowed, `RSS grew by ${Math.round((peak - before) / 2 ** 20)} MiB`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
