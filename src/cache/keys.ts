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

const prints = new Map<string, string>();

/**
 * sha256 (16 hex) over compiled modules of this tree, read once per process: a key that includes it
 * misses when that code changed, even within one version number. Paths are `../<dir>/<file>.js`,
 * which resolve alike from any dist/src/<dir>/ module and from the one-file CLI in dist/src/cli/.
 * Run from sources under a loader the files are absent: the names alone then have to do.
 */
export function compiledModulesPrint(modules: readonly string[]): string {
  const id = modules.join('\0');
  let print = prints.get(id);
  if (print) return print;
  const h = createHash('sha256');
  for (const m of modules) {
    h.update(m).update('\0');
    try {
      h.update(readFileSync(fileURLToPath(new URL(m, import.meta.url))));
    } catch {
      // see above
    }
  }
  print = h.digest('hex').slice(0, 16);
  prints.set(id, print);
  return print;
}

/** The tar and compressor modules: a cogts whose writer changed never reuses blobs the old one made. */
export function writerFingerprint(): string {
  return compiledModulesPrint([
    '../layer/tar-stream.js',
    '../layer/tar-header.js',
    '../layer/pieces.js',
    '../layer/gzip.js',
    '../layer/crc32.js',
    '../layer/zstd.js',
    '../layer/zstd-worker.js',
    '../layer/compression.js',
    '../layer/build.js',
  ]);
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
