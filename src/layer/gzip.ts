import { deflateRaw, gzip } from 'node:zlib';
import { crc32 } from './crc32.js';
import { PieceCompressor } from './pieces.js';

/**
 * Pinned compressor settings; part of a cached blob's key, because the same tar compressed with
 * other settings (or another zlib) is a different blob with the same diff_id.
 *
 * The tar is cut into fixed `chunkSize` pieces, each compressed as its own gzip member on the libuv
 * thread pool (as pigz --independent / pgzip spread work over cores); the members are concatenated
 * in order. RFC 1952 defines a gzip file as a series of members, and every layer reader (Go's
 * compress/gzip in Docker, containerd, skopeo, umoci; zlib; Python) reads them as one stream.
 * Piece boundaries depend only on byte offsets, so the output is as deterministic as one member;
 * a layer smaller than one piece is exactly one ordinary gzip member.
 * Level 1 (go-containerregistry's default). Model weights are mostly incompressible, and zlib
 * spends as long failing to compress them as succeeding: each piece's first `probe` bytes are
 * deflated first, and a piece that does not shrink below `storeRatio` is stored (level 0), the way
 * klauspost/compress (used by umoci/pgzip) skips incompressible data. The decision is a function of
 * the piece's bytes and these settings only, so it is deterministic too. A stored piece is framed
 * here, not by zlib (see storedMember).
 */
export interface GzipSettings {
  level: number;
  chunkSize: number;
  /** Pieces compressed at once (the thread pool has 4 threads by default). */
  parallel: number;
  /** Bytes of each piece test-compressed to decide whether to store it (0: never store). */
  probe?: number;
  /** Store the piece when the probe compresses to more than this fraction of its size. */
  storeRatio?: number;
}

export const DEFAULT_GZIP: GzipSettings = {
  level: 1,
  chunkSize: 4 << 20,
  parallel: 4,
  probe: 64 << 10,
  storeRatio: 0.97,
};

export function gzipKey(s: GzipSettings = DEFAULT_GZIP): string {
  return `gzip-l${s.level}-c${s.chunkSize}-p${s.probe ?? 0}-r${s.storeRatio ?? 0}-zlib${process.versions.zlib}`;
}

function probeLevel(data: Buffer, s: GzipSettings): Promise<number> {
  const n = Math.min(s.probe ?? 0, data.length);
  if (n === 0 || s.level === 0) return Promise.resolve(s.level);
  return new Promise((resolve, reject) =>
    deflateRaw(data.subarray(0, n), { level: s.level, chunkSize: n + (n >> 8) + 1024 }, (err, out) =>
      err ? reject(err) : resolve(out.length > n * (s.storeRatio ?? 1) ? 0 : s.level),
    ),
  );
}

/** Largest stored deflate block (RFC 1951 §3.2.4: LEN is 16 bits). */
const STORED_MAX = 0xffff;

/**
 * A gzip member holding `data` in stored deflate blocks, written straight into one buffer: no
 * deflate pass (zlib spent as long on it as on compressing), one copy, and one write downstream
 * (views of the piece between 5-byte headers made ~20k tiny writes per 600 MB).
 * Header: magic, CM=8, no flags, MTIME 0, XFL 0, OS 255 (unknown), so it does not depend on the machine.
 */
export function storedMember(data: Buffer): Buffer {
  const blocks = Math.max(1, Math.ceil(data.length / STORED_MAX));
  const out = Buffer.allocUnsafe(10 + data.length + 5 * blocks + 8);
  out.set([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff], 0);
  let at = 10;
  for (let b = 0, off = 0; b < blocks; b++, off += STORED_MAX) {
    const len = Math.min(STORED_MAX, data.length - off);
    out[at] = b === blocks - 1 ? 1 : 0; // BFINAL on the last block, BTYPE 00 (stored)
    out.writeUInt16LE(len, at + 1);
    out.writeUInt16LE(~len & 0xffff, at + 3);
    data.copy(out, at + 5, off, off + len);
    at += 5 + len;
  }
  out.writeUInt32LE(crc32(data), at);
  out.writeUInt32LE(data.length >>> 0, at + 4); // ISIZE: the length modulo 2^32
  return out;
}

async function gzipMember(data: Buffer, s: GzipSettings): Promise<Buffer> {
  const level = await probeLevel(data, s);
  if (level === 0) return storedMember(data);
  return new Promise((resolve, reject) =>
    // One output buffer for the whole piece: with zlib's default 16 KiB chunkSize every piece
    // would bounce between the thread pool and the main thread hundreds of times.
    gzip(data, { level, chunkSize: data.length + (data.length >> 8) + 1024 }, (err, out) => {
      if (err) return reject(err);
      // Header bytes 4-7 (MTIME) are 0 from zlib; byte 9 (OS) is the build machine's (3 Unix,
      // 10 Windows): pin it to 255 "unknown" so the blob does not depend on where it was made.
      out[9] = 0xff;
      resolve(out);
    }),
  );
}

/** Gzip members of fixed pieces on the libuv pool, concatenated in order (see GzipSettings). */
export class ParallelGzip extends PieceCompressor {
  constructor(private readonly settings: GzipSettings = DEFAULT_GZIP) {
    super(settings.chunkSize, settings.parallel);
  }

  protected override compressPiece(piece: Buffer): Promise<Buffer> {
    return gzipMember(piece, this.settings);
  }
}
