import { Readable, Transform } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { createGunzip } from 'node:zlib';
import { Decompress as ZstdDecompress } from 'fzstd';
import xz from 'xz-decompress';
import { CogtsError } from '../errors.js';

export type Compression = 'gz' | 'xz' | 'zst' | 'none';

/** The compression named by a file suffix (Packages.xz, data.tar.zst, control.tar). */
export function compressionOf(name: string): Compression {
  if (name.endsWith('.gz')) return 'gz';
  if (name.endsWith('.xz')) return 'xz';
  if (name.endsWith('.zst')) return 'zst';
  if (name.endsWith('.tar') || !/\.[a-z0-9]+$/.test(name) || name === 'Packages') return 'none';
  throw new CogtsError('E_APT_COMPRESSION', `unsupported compression for ${name}`);
}

function zstdTransform(): Transform {
  let out: Transform;
  const z = new ZstdDecompress((chunk) => {
    out.push(Buffer.from(chunk));
  });
  out = new Transform({
    transform(chunk: Buffer, _e, cb) {
      try {
        z.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
        cb();
      } catch (e) {
        cb(e as Error);
      }
    },
    flush(cb) {
      try {
        z.push(new Uint8Array(0), true);
        cb();
      } catch (e) {
        cb(e as Error);
      }
    },
  });
  return out;
}

/** A streaming decompressor over `input`: memory stays bounded by the codecs' windows. */
export function decompress(input: Readable, kind: Compression): Readable {
  switch (kind) {
    case 'none':
      return input;
    case 'gz':
      return input.pipe(createGunzip());
    case 'zst': {
      const t = zstdTransform();
      input.on('error', (e) => t.destroy(e));
      return input.pipe(t);
    }
    case 'xz': {
      const web = Readable.toWeb(input) as unknown as globalThis.ReadableStream<Uint8Array>;
      const out = Readable.fromWeb(new xz.XzReadableStream(web) as unknown as WebReadableStream<Uint8Array>);
      // The WASM decoder hands out views of its own memory and reuses them: copy each chunk before
      // anything downstream (tar parser, async file writes) holds on to it.
      return out.pipe(
        new Transform({
          transform(chunk: Uint8Array, _e, cb) {
            cb(null, Buffer.from(chunk));
          },
        }),
      );
    }
  }
}

export async function decompressBuffer(data: Buffer, kind: Compression): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of decompress(Readable.from([data]), kind)) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}
