import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { buildLayer, diffIdOf } from '../../src/layer/build.js';
import { bufferEntry, type LayerEntry } from '../../src/layer/entry.js';
import { tarStream } from '../../src/layer/tar-stream.js';

const longDir = `/opt/${'deep/'.repeat(40)}x`;
const unicode = '/src/données/modèle.txt';

function sample(): LayerEntry[] {
  return [
    bufferEntry('/src/predict.py', 'print(1)\n'),
    {
      type: 'file',
      path: '/src/run.sh',
      size: 3,
      executable: true,
      open: () => Readable.from([Buffer.from('hi\n')]),
    },
    { type: 'symlink', path: '/src/link', target: 'predict.py' },
    // The hardlink sorts before its target: the writer must swap roles so the data comes first.
    { type: 'hardlink', path: '/src/a-hard', target: '/src/predict.py' },
    bufferEntry(`${longDir}/file.txt`, 'deep'),
    bufferEntry(unicode, 'é'),
    { type: 'dir', path: '/var/empty', mode: 0o700 },
  ];
}

async function tarBytes(entries: LayerEntry[], mtime = 0): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of tarStream(entries, { mtime })) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

test('GNU tar reads the layer: parents first, modes, links, long and non-ASCII paths, root owner', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cogts-tar-'));
  try {
    const tarFile = join(dir, 'l.tar');
    writeFileSync(tarFile, await tarBytes(sample(), 1700000000));
    const listing = execFileSync('tar', ['--numeric-owner', '-tvf', tarFile], { encoding: 'utf8' });
    const names = execFileSync('tar', ['-tf', tarFile], { encoding: 'utf8' }).trim().split('\n');
    assert.equal(names[0], 'opt/');
    assert.ok(names.indexOf('src/') < names.indexOf('src/predict.py'));
    assert.ok(names.includes(`${longDir.slice(1)}/file.txt`), 'long path via PAX');
    assert.ok(names.includes(unicode.slice(1)));
    assert.match(listing, /-rwxr-xr-x 0\/0 +3 2023-11-14 \d\d:\d\d src\/run\.sh/);
    assert.match(listing, /drwx------ 0\/0 +0 .* var\/empty\//);
    assert.match(listing, /src\/predict\.py link to src\/a-hard/);
    const out = join(dir, 'x');
    execFileSync('mkdir', [out]);
    execFileSync('tar', ['-xf', tarFile, '-C', out]);
    assert.equal(readFileSync(join(out, 'src/predict.py'), 'utf8'), 'print(1)\n');
    assert.equal(readlinkSync(join(out, 'src/link')), 'predict.py');
    assert.equal(statSync(join(out, 'src/a-hard')).ino, statSync(join(out, 'src/predict.py')).ino);
    assert.equal(readFileSync(join(out, longDir.slice(1), 'file.txt'), 'utf8'), 'deep');
    // No atime/ctime anywhere: the only PAX keys are path/linkpath.
    const raw = readFileSync(tarFile).toString('latin1');
    assert.doesNotMatch(raw, /atime=|ctime=/);
    assert.doesNotMatch(raw, /ustar {2}/, 'POSIX ustar magic, not the GNU one');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('same entries in any order give the same bytes; mtime from SOURCE_DATE_EPOCH changes them', async () => {
  const a = await tarBytes(sample());
  const b = await tarBytes([...sample()].reverse());
  assert.deepEqual(
    createHash('sha256').update(a).digest('hex'),
    createHash('sha256').update(b).digest('hex'),
  );
  const c = await tarBytes(sample(), 5);
  assert.notDeepEqual(a, c);
  process.env.SOURCE_DATE_EPOCH = '5';
  try {
    assert.equal(await diffIdOf(sample()), `sha256:${createHash('sha256').update(c).digest('hex')}`);
  } finally {
    delete process.env.SOURCE_DATE_EPOCH;
  }
});

test('bad entries are rejected by path', async () => {
  await assert.rejects(tarBytes([bufferEntry('/a', 'x'), bufferEntry('/a', 'y')]), /two entries for "\/a"/);
  await assert.rejects(tarBytes([bufferEntry('a/b', 'x')]), /not a normalised absolute path/);
  await assert.rejects(tarBytes([bufferEntry('/a/../b', 'x')]), /not a normalised/);
  await assert.rejects(tarBytes([{ type: 'hardlink', path: '/h', target: '/missing' }]), /not in the layer/);
  await assert.rejects(
    tarBytes([bufferEntry('/f', 'x'), bufferEntry('/f/g', 'y')]),
    /inside "\/f", which is a file/,
  );
  const liar: LayerEntry = {
    type: 'file',
    path: '/src/grew',
    size: 2,
    open: () => Readable.from([Buffer.from('abc')]),
  };
  await assert.rejects(
    tarBytes([liar]),
    (e: Error & { code?: string }) => e.code === 'E_LAYER_SIZE' && /\/src\/grew/.test(e.message),
  );
});

test('buildLayer: one pass gives diff_id, digest and size that match the blob file; gzip header pinned', async () => {
  const blobDir = mkdtempSync(join(tmpdir(), 'cogts-blobs-'));
  try {
    const l1 = await buildLayer(sample(), { blobDir, mtime: 0 });
    const l2 = await buildLayer([...sample()].reverse(), { blobDir, mtime: 0 });
    assert.equal(l1.digest, l2.digest);
    const chunks: Buffer[] = [];
    for await (const c of await l1.open()) chunks.push(c as Buffer);
    const blob = Buffer.concat(chunks);
    assert.equal(blob.length, l1.size);
    assert.equal(`sha256:${createHash('sha256').update(blob).digest('hex')}`, l1.digest);
    assert.equal(`sha256:${createHash('sha256').update(gunzipSync(blob)).digest('hex')}`, l1.diffId);
    assert.deepEqual([...blob.subarray(0, 10)], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, blob[8], 0xff]);
    const part: Buffer[] = [];
    for await (const c of await l1.open({ start: 3, end: 10 })) part.push(c as Buffer);
    assert.deepEqual(Buffer.concat(part), blob.subarray(3, 10));
  } finally {
    rmSync(blobDir, { recursive: true, force: true });
  }
});

test('multi-member gzip (pieces compressed in parallel) is one stream to gzip and tar, and deterministic', async () => {
  const blobDir = mkdtempSync(join(tmpdir(), 'cogts-blobs-'));
  try {
    const big = Buffer.alloc(1_000_000);
    for (let i = 0; i < big.length; i++) big[i] = (i * 7919) % 251;
    const entries = () => [...sample(), bufferEntry('/src/big.bin', big)];
    const gz = { algorithm: 'gzip', level: 1, chunkSize: 100_000, parallel: 3 } as const;
    const a = await buildLayer(entries(), { blobDir, compression: gz });
    const b = await buildLayer(entries().reverse(), { blobDir: join(blobDir, 'b'), compression: gz });
    assert.equal(a.digest, b.digest);
    const file = join(blobDir, 'l.tgz');
    const chunks: Buffer[] = [];
    for await (const c of await a.open()) chunks.push(c as Buffer);
    writeFileSync(file, Buffer.concat(chunks));
    const tar = execFileSync('gzip', ['-dc', file], { maxBuffer: 64 << 20 });
    assert.equal(`sha256:${createHash('sha256').update(tar).digest('hex')}`, a.diffId);
    assert.match(execFileSync('tar', ['-tzf', file], { encoding: 'utf8' }), /src\/big\.bin/);
    const single = await buildLayer(entries(), { blobDir, compression: { ...gz, chunkSize: 4 << 20 } });
    assert.equal(single.diffId, a.diffId, 'same tar whatever the compression');
    assert.notEqual(single.digest, a.digest);
  } finally {
    rmSync(blobDir, { recursive: true, force: true });
  }
});

test('cachedLayer: same input key hits without calling the source; a missing blob or other settings rebuild', async () => {
  const { cachedLayer } = await import('../../src/layer/cache.js');
  const dir = mkdtempSync(join(tmpdir(), 'cogts-cache-'));
  try {
    let calls = 0;
    const src = () => {
      calls++;
      return sample();
    };
    const a = await cachedLayer(dir, 'wheels:abc', src, { mtime: 0 });
    const b = await cachedLayer(dir, 'wheels:abc', src, { mtime: 0 });
    assert.equal(calls, 1);
    assert.equal(a.cached, false);
    assert.equal(b.cached, true);
    assert.equal(b.digest, a.digest);
    assert.equal(b.diffId, a.diffId);
    const c = await cachedLayer(dir, 'wheels:abc', src, { mtime: 7 });
    assert.equal(calls, 2);
    assert.notEqual(c.diffId, a.diffId);
    rmSync(join(dir, 'blobs', 'sha256', a.digest.slice(7)));
    const d = await cachedLayer(dir, 'wheels:abc', src, { mtime: 0 });
    assert.equal(d.cached, false);
    assert.equal(d.digest, a.digest);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
