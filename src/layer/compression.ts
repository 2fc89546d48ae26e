import type { Transform } from 'node:stream';
import { CogtsError } from '../errors.js';
import { MediaType } from '../oci/media-types.js';
import { DEFAULT_GZIP, type GzipSettings, gzipKey, ParallelGzip } from './gzip.js';
import { DEFAULT_ZSTD, ParallelZstd, type ZstdSettings, zstdKey } from './zstd.js';

/** How layer blobs are compressed: the algorithm with all of its pinned settings. */
export type Compression = ({ algorithm: 'gzip' } & GzipSettings) | ({ algorithm: 'zstd' } & ZstdSettings);

export type CompressionAlgorithm = Compression['algorithm'];

/**
 * What a user picks and a BuildPlan records (plain data): the algorithm and its level. Everything
 * else (piece size, probing) is pinned per algorithm by `compressionFor`.
 */
export interface CompressionChoice {
  algorithm: CompressionAlgorithm;
  level: number;
}

/** Levels each algorithm accepts, and the one used when none is given. */
export const COMPRESSION_LEVELS: Record<CompressionAlgorithm, { min: number; max: number; default: number }> =
  {
    gzip: { min: 0, max: 9, default: DEFAULT_GZIP.level },
    zstd: { min: 1, max: 19, default: DEFAULT_ZSTD.level },
  };

export const DEFAULT_COMPRESSION: Compression = { algorithm: 'gzip', ...DEFAULT_GZIP };

export function isCompressionAlgorithm(s: string): s is CompressionAlgorithm {
  return Object.hasOwn(COMPRESSION_LEVELS, s);
}

/** The full settings for a choice; a level outside the algorithm's range is an error. */
export function compressionFor(choice: CompressionChoice): Compression {
  const range = isCompressionAlgorithm(choice.algorithm) ? COMPRESSION_LEVELS[choice.algorithm] : undefined;
  if (!range) {
    throw new CogtsError('E_COMPRESSION', `unknown layer compression "${choice.algorithm}"`, {
      hint: 'use gzip or zstd',
    });
  }
  const { level } = choice;
  if (!Number.isInteger(level) || level < range.min || level > range.max) {
    throw new CogtsError(
      'E_COMPRESSION',
      `${choice.algorithm} compression level ${level} is out of range ${range.min}-${range.max}`,
    );
  }
  return choice.algorithm === 'zstd'
    ? { algorithm: 'zstd', ...DEFAULT_ZSTD, level }
    : { algorithm: 'gzip', ...DEFAULT_GZIP, level };
}

/**
 * Part of every layer cache key: the same tar under other settings is another blob, so a layer
 * cached for a gzip build is never taken for a zstd build, nor the reverse.
 */
export function compressionKey(c: Compression): string {
  return c.algorithm === 'zstd' ? zstdKey(c) : gzipKey(c);
}

/** The OCI media type of layers written this way (image assembly maps gzip to the base's family). */
export function compressionMediaType(c: Compression): string {
  return c.algorithm === 'zstd' ? MediaType.ociLayerZstd : MediaType.ociLayerGzip;
}

/** A fresh compressing Transform: tar bytes in, blob bytes out. */
export function createCompressor(c: Compression): Transform {
  return c.algorithm === 'zstd' ? new ParallelZstd(c) : new ParallelGzip(c);
}
