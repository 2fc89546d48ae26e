import { CogtsError } from '../errors.js';
import { fetchBlob, remoteBlob } from '../registry/blobs.js';
import type { Registries } from '../registry/client.js';
import { getManifest } from '../registry/manifests.js';
import type { Digest } from './digest.js';
import { type Image, imageFromParts } from './image.js';
import { isIndexMediaType, isManifestMediaType } from './media-types.js';
import { parsePlatform, selectPlatform } from './platform.js';
import { formatReference, type Reference, referenceTarget } from './reference.js';
import type { ImageIndex, ImageManifest, Platform } from './types.js';

export interface RemoteImage extends Image {
  reference: Reference;
  /** Digest the reference resolved to (the index's, for a multi-platform image). */
  resolvedDigest: Digest;
}

async function readAll(s: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Fetches an image shallowly: manifest (through an index by platform) and config only; layers
 * stay remote blobs that stream when opened, and carry their origin so a push can mount them.
 */
export async function remoteImage(
  registries: Registries,
  ref: Reference,
  opts: { platform?: Platform | string } = {},
): Promise<RemoteImage> {
  const client = registries.client(ref.registry);
  const name = formatReference(ref);
  let m = await getManifest(client, ref.repository, referenceTarget(ref));
  const resolvedDigest = m.digest;
  if (isIndexMediaType(m.mediaType)) {
    const index = JSON.parse(m.bytes.toString('utf8')) as ImageIndex;
    const want =
      typeof opts.platform === 'string' ? parsePlatform(opts.platform) : (opts.platform ?? parsePlatform());
    const d = selectPlatform(index, want, name);
    m = await getManifest(client, ref.repository, d.digest);
  }
  if (!isManifestMediaType(m.mediaType)) {
    throw new CogtsError('E_MANIFEST', `${name} is a ${m.mediaType}, not an image cogts can build on`, {
      hint: 'use an image in Docker schema2 or OCI format',
    });
  }
  const manifest = JSON.parse(m.bytes.toString('utf8')) as ImageManifest;
  const configBytes = await readAll(
    fetchBlob(client, ref.repository, manifest.config.digest, manifest.config.size),
  );
  const layers = manifest.layers.map((d) => remoteBlob(client, ref.repository, d));
  return { ...imageFromParts(m.bytes, configBytes, layers), reference: ref, resolvedDigest };
}
