import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadRootfsSnapshot, saveRootfsSnapshot } from '../../src/cache/rootfs-snapshot.js';
import { buildLayer } from '../../src/layer/build.js';
import { bufferEntry, type LayerEntry } from '../../src/layer/entry.js';
import { defaultKeep, findPython, type Rootfs, rootfsFromLayers } from '../../src/rootfs/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'cogts-snapshot-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const elf = Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]), Buffer.alloc(9000, 1)]);

test('a saved base view answers exactly like the layer view it was made from', async () => {
  const entries: LayerEntry[] = [
    bufferEntry('/etc/os-release', 'ID=debian\nVERSION_ID="12"\n'),
    bufferEntry('/var/lib/dpkg/status', 'Package: libc6\nStatus: install ok installed\nVersion: 2.36-9\n\n'),
    bufferEntry('/usr/lib/x86_64-linux-gnu/libz.so.1.2.13', elf),
    { type: 'symlink', path: '/usr/lib/x86_64-linux-gnu/libz.so.1', target: 'libz.so.1.2.13' },
    { type: 'symlink', path: '/lib', target: 'usr/lib' },
    bufferEntry('/usr/bin/python3.11', elf, 0o755),
    { type: 'symlink', path: '/usr/bin/python3', target: 'python3.11' },
    bufferEntry('/usr/lib/python3.11/os.py', '# os\n'),
    bufferEntry('/usr/lib/python3.11/site.py', 'dist-packages\n'),
    bufferEntry('/usr/share/doc/big.txt', 'x'.repeat(100_000)),
    { type: 'dir', path: '/empty', mode: 0o700 },
  ];
  const layer = await buildLayer(entries, { blobDir: join(tmp, 'blobs') });
  const view = await rootfsFromLayers([{ open: () => layer.open() }], { keep: defaultKeep });
  await saveRootfsSnapshot(tmp, layer.digest, view);
  const snap = (await loadRootfsSnapshot(tmp, layer.digest)) as Rootfs;
  assert.ok(snap);
  assert.equal(await loadRootfsSnapshot(tmp, `sha256:${'0'.repeat(64)}`), undefined);

  for (const p of ['/', '/usr', '/lib', '/usr/lib/x86_64-linux-gnu', '/empty', '/nope']) {
    assert.deepEqual(snap.list(p), view.list(p), `list ${p}`);
  }
  for (const p of [
    '/etc/os-release',
    '/lib/x86_64-linux-gnu/libz.so.1',
    '/usr/bin/python3',
    '/empty',
    '/usr/share/doc/big.txt',
    '/missing',
  ]) {
    assert.deepEqual(snap.stat(p), view.stat(p), `stat ${p}`);
    assert.deepEqual(snap.lstat(p), view.lstat(p), `lstat ${p}`);
    assert.equal(snap.realpath(p), view.realpath(p), `realpath ${p}`);
    assert.deepEqual(snap.readHead(p), view.readHead(p), `readHead ${p}`);
  }
  assert.deepEqual(snap.readFile('/var/lib/dpkg/status'), view.readFile('/var/lib/dpkg/status'));
  assert.equal(snap.readHead('/lib/x86_64-linux-gnu/libz.so.1')?.length, 4096);
  // Content the keep rules left out stays an error, not a silent "missing".
  assert.throws(() => view.readFile('/usr/share/doc/big.txt'), /not kept/);
  assert.throws(() => snap.readFile('/usr/share/doc/big.txt'), /not kept/);
  assert.deepEqual(findPython(snap, '3.11'), findPython(view, '3.11'));
});
