import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { test } from 'node:test';
import * as zlib from 'node:zlib';
import { crc32, crc32Js } from '../../src/layer/crc32.js';
import { DEFAULT_GZIP, ParallelGzip, storedMember } from '../../src/layer/gzip.js';

async function compress(data: Buffer, chunk = 1 << 20): Promise<Buffer> {
  const out: Buffer[] = [];
  const pieces = Array.from({ length: Math.ceil(data.length / chunk) }, (_, i) =>
    data.subarray(i * chunk, (i + 1) * chunk),
  );
  await pipeline(
    Readable.from(pieces),
    new ParallelGzip(DEFAULT_GZIP),
    new Writable({
      write(c, _e, cb) {
        out.push(c);
        cb();
      },
    }),
  );
  return Buffer.concat(out);
}

test('crc32 in JS equals zlib.crc32 (the Node ≥ 20.15 fast path) and the gzip trailer zlib writes', () => {
  for (const n of [0, 1, 7, 1000, 65536, 1 << 20]) {
    const d = randomBytes(n);
    const fromZlib = zlib.gzipSync(d).readUInt32LE(zlib.gzipSync(d).length - 8);
    assert.equal(crc32Js(d), fromZlib, `n=${n}`);
    assert.equal(crc32(d), fromZlib, `n=${n}`);
  }
});

test('a stored gzip member of any size decodes with zlib and GNU gzip, byte for byte', () => {
  for (const n of [0, 1, 65534, 65535, 65536, 65535 * 3 + 17, 4 << 20]) {
    const d = randomBytes(n);
    const member = storedMember(d);
    assert.equal(member.length, 10 + n + 5 * Math.max(1, Math.ceil(n / 65535)) + 8, `n=${n}`);
    assert.deepEqual(zlib.gunzipSync(member), d, `zlib n=${n}`);
    const viaGzip = execFileSync('gzip', ['-dc'], { input: member, maxBuffer: 64 << 20 });
    assert.ok(viaGzip.equals(d), `gzip -dc n=${n}`);
  }
});

test('incompressible pieces are stored, compressible ones deflated; the stream is one valid gzip', async () => {
  // Pieces are 4 MiB and decided by their first 64 KiB: two random pieces, one of text, a random tail.
  const text = Buffer.alloc(4 << 20, 'def predict(self, x):\n    return x * 2\n');
  const data = Buffer.concat([randomBytes(8 << 20), text, randomBytes(123_457)]);
  const gz = await compress(data);
  assert.ok(zlib.gunzipSync(gz).equals(data));
  assert.ok(execFileSync('gzip', ['-dc'], { input: gz, maxBuffer: 64 << 20 }).equals(data));
  // Random pieces cost only their framing; the text piece shrinks.
  const framing = 10 + 8 + 5 * Math.ceil((4 << 20) / 65535);
  assert.ok(
    gz.length < data.length - text.length + 3 * framing + (100 << 10),
    `${gz.length} of ${data.length}`,
  );
  assert.ok(gz.length > (8 << 20) + 123_457);
  // Deterministic whatever the input chunking.
  assert.ok((await compress(data, 333_333)).equals(gz));
});
