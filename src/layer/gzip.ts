import { Transform, type TransformCallback } from 'node:stream';
import { constants, createGzip, type Gzip } from 'node:zlib';

/**
 * Pinned compressor settings. The level is part of a cached blob's key: the same tar compressed
 * with other settings (or another zlib) is a different blob with the same diff_id.
 * Level 1 (as go-containerregistry's default): model files are mostly incompressible weights, so
 * higher levels cost CPU time for little size.
 */
export interface GzipSettings {
  level: number;
}

export const DEFAULT_GZIP: GzipSettings = { level: 1 };

export function gzipKey(s: GzipSettings): string {
  return `gzip-l${s.level}-zlib${process.versions.zlib}`;
}

export function createDeterministicGzip(s: GzipSettings = DEFAULT_GZIP): Gzip {
  return createGzip({ level: s.level, memLevel: 8, windowBits: 15, strategy: constants.Z_DEFAULT_STRATEGY });
}

/**
 * Forces the gzip header's MTIME (bytes 4-7) to 0 and OS (byte 9) to 255 "unknown": zlib writes the
 * OS it was compiled for (3 on Unix, 10 on Windows), which would make the blob machine-dependent.
 */
export class GzipHeaderPin extends Transform {
  private seen = 0;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.seen < 10) {
      const c = Buffer.from(chunk);
      for (let i = 0; i < c.length && this.seen + i < 10; i++) {
        const pos = this.seen + i;
        if (pos >= 4 && pos <= 7) c[i] = 0;
        if (pos === 9) c[i] = 0xff;
      }
      this.seen += c.length;
      cb(null, c);
      return;
    }
    cb(null, chunk);
  }
}
