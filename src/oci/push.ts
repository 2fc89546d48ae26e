import { CogtsError } from '../errors.js';
import { type UploadResult, uploadBlob } from '../registry/blobs.js';
import type { Registries } from '../registry/client.js';
import { putManifest } from '../registry/manifests.js';
import { mapLimit } from '../registry/retry.js';
import type { Digest } from './digest.js';
import type { Image } from './image.js';
import { formatReference, type Reference } from './reference.js';
import type { Blob } from './types.js';

export interface PushEvent {
  digest: Digest;
  size: number;
  result: UploadResult;
}

export interface PushOptions {
  /** Blobs moved at once (go-containerregistry uses 4). */
  concurrency?: number;
  onBlob?: (e: PushEvent) => void;
  /** Bytes of one blob sent so far, as it streams (for progress bars). */
  onBytes?: (digest: Digest, sent: number, size: number) => void;
}

export interface PushResult {
  digest: Digest;
  /** `registry/repository@sha256:…` */
  reference: string;
  blobs: PushEvent[];
}

/**
 * Pushes an image: every blob first (HEAD, skip present; mount from the same registry; stream
 * from the source registry or the local file otherwise), the manifest last. The tag moves only
 * when everything it points to is in place, so a failed push never leaves a partial image tagged.
 */
export async function pushImage(
  registries: Registries,
  image: Image,
  target: Reference,
  opts: PushOptions = {},
): Promise<PushResult> {
  const client = registries.client(target.registry);
  const blobs: Blob[] = [];
  const seen = new Set<string>();
  for (const b of [...image.layers, image.configBlob]) {
    if (!seen.has(b.digest)) blobs.push(b);
    seen.add(b.digest);
  }
  const events = await mapLimit(blobs, opts.concurrency ?? 4, async (b) => {
    const onBytes = opts.onBytes;
    const result = await uploadBlob(
      client,
      target.repository,
      b,
      onBytes ? (sent) => onBytes(b.digest, sent, b.size) : undefined,
    );
    const e = { digest: b.digest, size: b.size, result };
    opts.onBlob?.(e);
    return e;
  });
  const ref = target.tag ?? image.digest;
  const digest = await putManifest(client, target.repository, ref, image.manifestBytes, image.mediaType);
  if (target.digest && target.digest !== digest) {
    throw new CogtsError(
      'E_DIGEST_MISMATCH',
      `pushed image has digest ${digest}, but ${formatReference(target)} names ${target.digest}`,
    );
  }
  return {
    digest,
    reference: formatReference({ registry: target.registry, repository: target.repository, digest }),
    blobs: events,
  };
}
