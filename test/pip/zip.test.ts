import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openZip, readAll } from '../../src/pip/zip.js';

const dir = mkdtempSync(join(tmpdir(), 'cogts-zip-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A zip made by Python's zipfile: members stored or deflated, small and big. */
function makeZip(name: string, members: Record<string, { data: Buffer; deflate: boolean }>): string {
  const spec = join(dir, `${name}.json`);
  const files: Record<string, [string, boolean]> = {};
  for (const [n, m] of Object.entries(members)) {
    const f = join(dir, `${name}-${Object.keys(files).length}.bin`);
    writeFileSync(f, m.data);
    files[n] = [f, m.deflate];
  }
  writeFileSync(spec, JSON.stringify(files));
  const out = join(dir, `${name}.zip`);
  execFileSync('python3', [
    '-c',
    `import json, sys, zipfile
spec = json.load(open(sys.argv[1]))
with zipfile.ZipFile(sys.argv[2], 'w') as z:
    for n, (f, d) in spec.items():
        z.write(f, n, zipfile.ZIP_DEFLATED if d else zipfile.ZIP_STORED)`,
    spec,
    out,
  ]);
  return out;
}

test('members read back byte for byte: stored and deflated, small and over the one-read size', async () => {
  const members = {
    'pkg/__init__.py': { data: Buffer.from('x = 1\n'), deflate: true },
    'pkg/empty.py': { data: Buffer.alloc(0), deflate: false },
    'pkg/big.bin': { data: randomBytes(3 << 20), deflate: false },
    'pkg/big.txt': { data: Buffer.alloc(2 << 20, 'text '), deflate: true },
    'pkg/mid.bin': { data: randomBytes(100_000), deflate: true },
  };
  const z = await openZip(makeZip('ok', members));
  try {
    for (const e of z.entries) {
      const want = members[e.fileName as keyof typeof members].data;
      assert.ok((await readAll(await z.open(e))).equals(want), e.fileName);
    }
  } finally {
    z.close();
  }
});

test('a member whose data disagrees with its declared size is an error naming it', async () => {
  const path = makeZip('liar', { 'pkg/a.py': { data: Buffer.alloc(1000, 'a'), deflate: true } });
  // Central directory: uncompressed size at +24 of the 0x02014b50 record; claim 10 bytes.
  const buf = readFileSync(path);
  const cd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  buf.writeUInt32LE(10, cd + 24);
  writeFileSync(path, buf);
  const z = await openZip(path, 'liar-1.0-py3-none-any.whl');
  try {
    const e = z.entries[0]!;
    await assert.rejects(
      readAll(await z.open(e)),
      /liar-1\.0-py3-none-any\.whl: pkg\/a\.py inflates past its declared 10 bytes/,
    );
  } finally {
    z.close();
  }
});
