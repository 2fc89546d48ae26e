import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BuildLayerOptions, buildLayer } from '../../src/layer/build.js';
import type { Layer } from '../../src/oci/types.js';
import { codeEntries } from '../../src/sources/code.js';

/**
 * Builds a layer from one sparse file of `size` bytes (no disk, reads as zeros) and measures how far
 * RSS rose above where it started while it did. Each memory test runs in a process of its own
 * (node --test runs files apart), so nothing else shares the measure.
 */
export async function sparseLayerPeak(
  size: number,
  opts: Omit<BuildLayerOptions, 'blobDir'> = {},
): Promise<{ layer: Layer; grewBy: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'cogts-mem-'));
  try {
    writeFileSync(join(dir, 'big.bin'), '');
    truncateSync(join(dir, 'big.bin'), size);
    global.gc?.();
    const before = process.memoryUsage().rss;
    let peak = before;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 20);
    const layer = await buildLayer(await codeEntries(dir), { ...opts, blobDir: join(dir, 'blobs') });
    clearInterval(timer);
    peak = Math.max(peak, process.memoryUsage().rss);
    return { layer, grewBy: peak - before };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
