import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CogtsError } from '../errors.js';
import { digestHex } from './digest.js';
import { type Image, toOciFamily } from './image.js';
import { MediaType } from './media-types.js';
import type { Blob, Descriptor, ImageIndex } from './types.js';

/** Copies a blob into `dir/blobs/sha256/<hex>`, verifying its digest; skips blobs already there. */
export async function writeBlobFile(blobsDir: string, blob: Blob): Promise<void> {
  const final = join(blobsDir, digestHex(blob.digest));
  if ((await stat(final).catch(() => undefined))?.size === blob.size) return;
  await mkdir(blobsDir, { recursive: true });
  const tmp = join(blobsDir, `.tmp-${randomBytes(6).toString('hex')}`);
  const hash = createHash('sha256');
  try {
    await pipeline(
      await blob.open(),
      new Transform({
        transform(chunk: Buffer, _e, cb) {
          hash.update(chunk);
          cb(null, chunk);
        },
      }),
      createWriteStream(tmp),
    );
    const actual = `sha256:${hash.digest('hex')}`;
    if (actual !== blob.digest)
      throw new CogtsError('E_DIGEST_MISMATCH', `blob ${blob.digest} read back as ${actual}`);
    await rename(tmp, final);
  } finally {
    await rm(tmp, { force: true });
  }
}

/**
 * Writes (or adds to) an OCI image layout: `oci-layout`, `index.json` with the image under
 * `org.opencontainers.image.ref.name` = `refName`, and every blob. Readable by skopeo (`oci:DIR:REF`),
 * umoci and crane. An existing entry with the same ref name is replaced. A Docker-format image is
 * written with OCI media types (same config and layers), as those tools only read OCI descriptors.
 */
export async function writeOciLayout(input: Image, dir: string, refName = 'latest'): Promise<Descriptor> {
  const image = toOciFamily(input);
  const blobsDir = join(dir, 'blobs', 'sha256');
  await mkdir(blobsDir, { recursive: true });
  for (const b of [...image.layers, image.configBlob]) await writeBlobFile(blobsDir, b);
  await writeFile(join(blobsDir, digestHex(image.digest)), image.manifestBytes);
  await writeFile(join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
  let index: ImageIndex = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] };
  try {
    index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as ImageIndex;
  } catch {
    // a new layout
  }
  const desc: Descriptor = {
    mediaType: image.mediaType,
    digest: image.digest,
    size: image.manifestBytes.length,
    annotations: { 'org.opencontainers.image.ref.name': refName },
  };
  index.manifests = [
    ...index.manifests.filter((m) => m.annotations?.['org.opencontainers.image.ref.name'] !== refName),
    desc,
  ];
  await writeFile(join(dir, 'index.json'), JSON.stringify(index));
  return desc;
}
