import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Decompress } from 'fzstd';

export type LayerCompression = 'gzip' | 'zstd' | 'none';

/** Sniffs the compression from magic bytes: registries' media types are not always truthful. */
export function sniffCompression(head: Uint8Array): LayerCompression {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'none';
}

async function* prepend(head: Buffer, rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  if (head.length) yield head;
  for (;;) {
    const r = await rest.next();
    if (r.done) return;
    yield r.value;
  }
}

/**
 * Plain tar bytes of a layer blob, decompressing gzip (node zlib; multi-member pigz output too) or
 * zstd (fzstd: Node 20's zlib has no zstd) as a stream. Memory stays bounded by the codec window.
 */
export async function* decompressLayer(src: Readable): AsyncGenerator<Buffer> {
  const it = src[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  let head = Buffer.alloc(0);
  while (head.length < 4) {
    const r = await it.next();
    if (r.done) break;
    head = Buffer.concat([head, Buffer.from(r.value)]);
  }
  const kind = sniffCompression(head);
  const raw = prepend(head, it);
  if (kind === 'none') {
    yield* raw;
    return;
  }
  if (kind === 'gzip') {
    // 256 KiB output pieces: each is a round trip to the libuv pool, and with zlib's 16 KiB default
    // a base layer's read was mostly waiting in that queue behind other layers' compression.
    const gunzip = createGunzip({ chunkSize: 256 << 10 });
    // pipeline, not pipe: a failing source must surface as an error of the loop below.
    pipeline(Readable.from(raw), gunzip, () => {});
    for await (const chunk of gunzip) yield chunk as Buffer;
    return;
  }
  let out: Uint8Array[] = [];
  const z = new Decompress((chunk) => {
    out.push(chunk);
  });
  for await (const chunk of raw) {
    z.push(chunk);
    if (out.length) {
      const ready = out;
      out = [];
      for (const c of ready) yield Buffer.from(c); // copy: the codec may reuse its window
    }
  }
  z.push(new Uint8Array(0), true);
  for (const c of out) yield Buffer.from(c);
}
