import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { PieceCompressor } from './pieces.js';
import { type ZstdPool, zstdPool } from './zstd-pool.js';

/**
 * Pinned zstd settings for `+zstd` layers; like GzipSettings, part of every cached blob's key.
 *
 * The tar is cut into fixed `chunkSize` pieces, each compressed as its own zstd frame on a worker
 * thread (zstd-pool.ts); the frames are concatenated in order. RFC 8878 §3.1 defines a zstd stream
 * as a sequence of frames, and layer readers (containerd and skopeo through klauspost/compress, the
 * zstd CLI, fzstd) decode them as one stream. Boundaries depend only on byte offsets, so the blob
 * is a function of the tar bytes, these settings and the zstd build alone.
 *
 * The compressor is the wasm build of @bokuweb/zstd-wasm on every Node version, on purpose: Node
 * ≥ 22.15 has zlib zstd, but a second implementation could emit other bytes for the same level, and
 * a layer's digest must not depend on the Node that built it. No store-or-compress probe as in gzip:
 * zstd gives up on incompressible blocks quickly by itself.
 */
export interface ZstdSettings {
  /** 1-19 (zstd's "ultra" levels 20-22 need windows far beyond one piece). */
  level: number;
  chunkSize: number;
  /** Pieces of one stream in flight (the shared pool runs one per worker). Not in the key. */
  parallel: number;
}

export const DEFAULT_ZSTD: ZstdSettings = {
  level: 3,
  chunkSize: 4 << 20,
  // Enough to keep every worker busy while the head-of-line piece finishes.
  parallel: zstdPool().size + 2,
};

export const ZSTD_LIBRARY = '@bokuweb/zstd-wasm';

let libraryVersion: string | undefined;

/**
 * The installed library's version. Its package.json is not in its `exports`, so it is found by
 * walking up from the resolved entry point.
 */
export function zstdLibraryVersion(): string {
  if (libraryVersion) return libraryVersion;
  let dir = dirname(createRequire(import.meta.url).resolve(ZSTD_LIBRARY));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === ZSTD_LIBRARY && pkg.version) {
        libraryVersion = pkg.version;
        return pkg.version;
      }
    } catch {
      // no package.json at this level (the package's dist/ folders have none)
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the version of ${ZSTD_LIBRARY}`);
    dir = up;
  }
}

/** The cache-key form: library and version (which pin the zstd C sources), level and piece size. */
export function zstdKey(s: ZstdSettings = DEFAULT_ZSTD): string {
  return `zstd-l${s.level}-c${s.chunkSize}-${ZSTD_LIBRARY}@${zstdLibraryVersion()}`;
}

/** Zstd frames of fixed pieces on the worker pool, concatenated in order (see ZstdSettings). */
export class ParallelZstd extends PieceCompressor {
  constructor(
    private readonly settings: ZstdSettings = DEFAULT_ZSTD,
    private readonly pool: ZstdPool = zstdPool(),
  ) {
    super(settings.chunkSize, settings.parallel);
  }

  protected override compressPiece(piece: Buffer): Promise<Buffer> {
    return this.pool.compress(
      piece.buffer as ArrayBuffer,
      piece.byteOffset,
      piece.length,
      this.settings.level,
    );
  }
}
