import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { bufferEntry, type LayerEntry } from '../layer/entry.js';
import { tarStream } from '../layer/tar-stream.js';
import { digestHex } from './digest.js';
import type { Image } from './image.js';

/**
 * Writes a `docker load` archive: manifest.json (Config, RepoTags, Layers), the config, and the
 * layer blobs as they are (gzip; docker load and skopeo decompress them). Streams every layer;
 * nothing layer-sized is held in memory. Written to a temp name, renamed when complete.
 */
export async function writeDockerArchive(image: Image, file: string, repoTags: string[] = []): Promise<void> {
  const configPath = `blobs/sha256/${digestHex(image.configBlob.digest)}`;
  const layerPaths = image.layers.map((l) => `blobs/sha256/${digestHex(l.digest)}`);
  const manifest = [{ Config: configPath, RepoTags: repoTags, Layers: layerPaths }];
  const entries: LayerEntry[] = [bufferEntry('/manifest.json', JSON.stringify(manifest))];
  const seen = new Set<string>();
  for (const b of [image.configBlob, ...image.layers]) {
    if (seen.has(b.digest)) continue;
    seen.add(b.digest);
    entries.push({
      type: 'file',
      path: `/blobs/sha256/${digestHex(b.digest)}`,
      size: b.size,
      open: () => b.open(),
    });
  }
  const tmp = `${file}.${process.pid}.partial`;
  try {
    await pipeline(tarStream(entries, { mtime: 0 }), createWriteStream(tmp));
    await rename(tmp, file);
  } finally {
    await rm(tmp, { force: true });
  }
}
