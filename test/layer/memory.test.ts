import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { buildLayer } from '../../src/layer/build.js';
import { codeEntries } from '../../src/sources/code.js';

test('a layer far larger than the memory it may use streams through (512 MiB sparse file, RSS growth < 200 MiB)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cogts-mem-'));
  try {
    const size = 512 << 20;
    writeFileSync(join(dir, 'big.bin'), '');
    truncateSync(join(dir, 'big.bin'), size); // sparse: costs no disk, reads as zeros
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const layer = await buildLayer(await codeEntries(dir), { blobDir: join(dir, 'blobs') });
    clearInterval(timer);
    peak = Math.max(peak, process.memoryUsage().rss);
    assert.ok(layer.size > 0 && layer.size < size / 100, `zeros compress: ${layer.size}`);
    assert.ok(peak - before < 200 << 20, `RSS grew by ${Math.round((peak - before) / 2 ** 20)} MiB`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
