import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * How a layer's bytes are written, beyond its inputs: the same entries under another compressor,
 * mtime or media type are another blob. `writer` fingerprints the tar and compressor code itself, so
 * a cogts whose writer changed never reuses blobs the old one made (even within one version number).
 */
export interface WriteSettings {
  compression: string;
  mtime: number;
  mediaType: string;
  writer: string;
}

/** Bump when a key's meaning changes (what inputs a kind covers): old entries then simply miss. */
const KEY_FORMAT = 'cogts-layer-key-v1';

let writerPrint: string | undefined;

/** sha256 over the compiled tar and compressor modules (a few KB, read once per process). */
export function writerFingerprint(): string {
  if (writerPrint) return writerPrint;
  const h = createHash('sha256');
  for (const m of [
    '../layer/tar-stream.js',
    '../layer/tar-header.js',
    '../layer/pieces.js',
    '../layer/gzip.js',
    '../layer/zstd.js',
    '../layer/zstd-worker.js',
    '../layer/compression.js',
    '../layer/build.js',
  ]) {
    h.update(m).update('\0');
    try {
      h.update(readFileSync(fileURLToPath(new URL(m, import.meta.url))));
    } catch {
      // running from sources under a loader: the version alone then has to do
    }
  }
  writerPrint = h.digest('hex').slice(0, 16);
  return writerPrint;
}

/** JSON with object keys sorted, so equal inputs always hash equally whatever their build order. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v ?? null);
}

/** The cache key of one layer: hex sha256 of its kind, its inputs and how it is written. */
export function layerKey(kind: string, inputs: unknown, settings: WriteSettings): string {
  return createHash('sha256')
    .update(canonicalJson({ format: KEY_FORMAT, kind, inputs, settings }))
    .digest('hex');
}

export function sha256Hex(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}
