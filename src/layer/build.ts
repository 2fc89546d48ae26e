import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, type Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { CogtsError } from '../errors.js';
import { type Digest, digestHex } from '../oci/digest.js';
import type { ByteRange, Layer } from '../oci/types.js';
import { tapStream } from '../stream-tap.js';
import {
  type Compression,
  compressionMediaType,
  createCompressor,
  DEFAULT_COMPRESSION,
} from './compression.js';
import type { LayerEntry } from './entry.js';
import { type TarOptions, tarStream } from './tar-stream.js';

/** Hashes and counts what flows through, without holding it. */
class Meter extends Transform {
  readonly hash = createHash('sha256');
  bytes = 0;
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
    cb(null, chunk);
  }
}

export interface BuildLayerOptions extends TarOptions {
  /** Where compressed blobs are kept (`<dir>/sha256/<hex>`); default a folder in os.tmpdir(). */
  blobDir?: string;
  /** Default gzip (DEFAULT_COMPRESSION). */
  compression?: Compression;
  /**
   * Sees every compressed chunk as it is produced (before the digest is known), e.g. to start
   * uploading while the layer is still being built. A returned promise applies backpressure.
   */
  tap?: (chunk: Buffer) => void | Promise<void>;
  /**
   * Defaults to the OCI type of the compression (tar+gzip or tar+zstd); image assembly converts gzip
   * to the base's family.
   */
  mediaType?: string;
}

export function defaultBlobDir(): string {
  return join(tmpdir(), 'cogts-blobs');
}

/** A layer whose compressed bytes sit in a file: any number of opens, ranged or whole. */
export function fileLayer(
  path: string,
  props: { diffId: Digest; digest: Digest; size: number; mediaType: string },
): Layer {
  return {
    ...props,
    open: async (range?: ByteRange): Promise<Readable> =>
      createReadStream(
        path,
        range ? { start: range.start, ...(range.end !== undefined ? { end: range.end - 1 } : {}) } : {},
      ),
  };
}

/**
 * Builds a deterministic layer from entries in one streaming pass: tar → sha256 (diff_id) → gzip or
 * zstd (pinned settings, pieces compressed in parallel) → sha256 + byte count (digest, size) → file.
 * Memory stays bounded whatever the layer size; the blob lands in `blobDir` under its digest, written to a temp name and renamed, so a
 * crashed build never leaves a truncated blob under a real digest.
 */
export async function buildLayer(
  entries: Iterable<LayerEntry>,
  opts: BuildLayerOptions = {},
): Promise<Layer> {
  const blobDir = opts.blobDir ?? defaultBlobDir();
  const dir = join(blobDir, 'sha256');
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  const compression = opts.compression ?? DEFAULT_COMPRESSION;
  const tar = new Meter();
  const blob = new Meter();
  try {
    await pipeline(
      tarStream(entries, opts),
      tar,
      createCompressor(compression),
      blob,
      ...(opts.tap ? [tapStream(opts.tap)] : []),
      createWriteStream(tmp),
    );
  } catch (err) {
    await rm(tmp, { force: true });
    if (err instanceof CogtsError) throw err;
    throw new CogtsError('E_LAYER_WRITE', `cannot write layer blob in ${dir}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const diffId: Digest = `sha256:${tar.hash.digest('hex')}`;
  const digest: Digest = `sha256:${blob.hash.digest('hex')}`;
  const final = join(dir, digestHex(digest));
  const existing = await stat(final).catch(() => undefined);
  if (existing?.size === blob.bytes) await rm(tmp, { force: true });
  else await rename(tmp, final);
  return fileLayer(final, {
    diffId,
    digest,
    size: blob.bytes,
    mediaType: opts.mediaType ?? compressionMediaType(compression),
  });
}

/** Only the uncompressed tar digest (diff_id): for tests and cache keys, no file written. */
export async function diffIdOf(entries: Iterable<LayerEntry>, opts: TarOptions = {}): Promise<Digest> {
  const m = new Meter();
  await pipeline(tarStream(entries, opts), m, new PassThrough().resume());
  return `sha256:${m.hash.digest('hex')}`;
}
