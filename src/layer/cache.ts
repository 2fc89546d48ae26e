import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { atomicWrite } from '../atomic-write.js';
import { type Digest, digestHex, isDigest } from '../oci/digest.js';
import type { Layer } from '../oci/types.js';
import { type BuildLayerOptions, buildLayer, fileLayer } from './build.js';
import { compressionKey, DEFAULT_COMPRESSION } from './compression.js';
import type { LayerEntry } from './entry.js';
import { sourceDateEpoch } from './tar-stream.js';

interface CacheRecord {
  diffId: Digest;
  digest: Digest;
  size: number;
  mediaType: string;
}

/**
 * A layer cache keyed by what went into the layer (e.g. the sha256 of every wheel it installs),
 * plus the compressor settings and mtime, since those change the blob for the same inputs.
 * A hit costs one small JSON read and a stat; the blob itself lives in `<cacheDir>/blobs/sha256`.
 */
export async function cachedLayer(
  cacheDir: string,
  inputKey: string,
  entries: () => Promise<Iterable<LayerEntry>> | Iterable<LayerEntry>,
  opts: Omit<BuildLayerOptions, 'blobDir'> = {},
): Promise<Layer & { cached: boolean }> {
  const blobDir = join(cacheDir, 'blobs');
  const full = `${inputKey}\n${compressionKey(opts.compression ?? DEFAULT_COMPRESSION)}\nmtime=${opts.mtime ?? sourceDateEpoch()}\n${opts.mediaType ?? ''}`;
  const key = createHash('sha256').update(full).digest('hex');
  const indexFile = join(cacheDir, 'layers', `${key}.json`);
  try {
    const rec = JSON.parse(await readFile(indexFile, 'utf8')) as CacheRecord;
    const path = join(blobDir, 'sha256', digestHex(rec.digest));
    if (isDigest(rec.digest) && isDigest(rec.diffId) && (await stat(path)).size === rec.size) {
      return { ...fileLayer(path, rec), cached: true };
    }
  } catch {
    // miss (or a damaged record): build anew
  }
  const layer = await buildLayer(await entries(), { ...opts, blobDir });
  const rec: CacheRecord = {
    diffId: layer.diffId,
    digest: layer.digest,
    size: layer.size,
    mediaType: layer.mediaType,
  };
  await atomicWrite(indexFile, JSON.stringify(rec));
  return Object.assign(layer, { cached: false });
}
