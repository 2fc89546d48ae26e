/**
 * `cogts build --compression zstd --push` through the real CLI against a real registry, checked by
 * tools that are not cogts: skopeo reads the manifest and pulls the image into an OCI layout, umoci
 * unpacks it, the zstd CLI decodes the layers. The fixture's base is Docker schema2, so this is
 * also the Docker → OCI conversion. Then the cache: zstd again hits, gzip after it builds anew.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { MediaType } from '../../src/oci/media-types.js';
import { repoRoot } from '../helpers/paths.js';
import { skopeoInspect } from '../helpers/registry.js';
import { type BuildFixture, buildFixture, cogtsBuild, newCacheDir, newProject } from './fixture.js';

const execFileP = promisify(execFile);
const bundled = existsSync(join(repoRoot, 'dist', 'runtime', 'server.mjs'));

interface Desc {
  mediaType: string;
  digest: string;
  size: number;
}
interface Manifest {
  mediaType: string;
  config: Desc;
  layers: Desc[];
}
interface BuiltLayer {
  id: string;
  digest: string;
  diffId: string;
  outcome: string;
}

/** The layers of `m` extracted in order into `dir` (no whiteouts: none of these layers has any). */
async function applyLayers(layout: string, m: Manifest, dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  for (const d of m.layers) {
    const blob = join(layout, 'blobs', 'sha256', d.digest.slice(7));
    const decode = d.mediaType.endsWith('+zstd') ? 'zstd -dc' : 'gzip -dc';
    await execFileP('sh', ['-c', `${decode} "$1" | tar -x -C "$2"`, 'sh', blob, dir]);
  }
  return dir;
}

describe('zstd layers', { skip: !bundled && 'run `npm run build` first (bundles the server)' }, () => {
  let f: BuildFixture;
  let work: string;
  before(async () => {
    f = await buildFixture();
    work = mkdtempSync(join(tmpdir(), 'cogts-zstd-e2e-'));
  });
  after(async () => {
    await f?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  test('--compression zstd on a Docker base pushes an OCI image with tar+zstd layers that skopeo and umoci read; the cache keeps zstd and gzip apart', async () => {
    const project = newProject(f);
    const cache = newCacheDir(f);
    const ref = `${f.reg.host}/zstd/model:1`;
    const baseManifest = (await skopeoInspect(f.reg, f.base, '--raw')) as Manifest;
    assert.equal(baseManifest.mediaType, MediaType.dockerManifest, 'the fixture base is Docker schema2');

    const cold = await cogtsBuild(f, project, ref, cache, ['--compression', 'zstd']);
    assert.equal(cold.status, 0, cold.stderr);
    assert.match(cold.stderr, /is a Docker schema2 image, which cannot list zstd layers: .*OCI media types/);
    const built: BuiltLayer[] = cold.json.layers;
    assert.deepEqual(
      built.map((l) => [l.id, l.outcome]),
      [
        ['runtime', 'built'],
        ['code', 'built'],
      ],
    );

    const m = (await skopeoInspect(f.reg, ref, '--raw')) as Manifest;
    assert.equal(m.mediaType, MediaType.ociManifest);
    assert.equal(m.config.mediaType, MediaType.ociConfig);
    const nBase = baseManifest.layers.length;
    assert.deepEqual(
      m.layers.slice(0, nBase).map((d) => [d.mediaType, d.digest, d.size]),
      baseManifest.layers.map((d) => [MediaType.ociLayerGzip, d.digest, d.size]),
      'base layers: same blobs, OCI descriptors',
    );
    assert.deepEqual(
      m.layers.slice(nBase).map((d) => [d.mediaType, d.digest]),
      built.map((l) => [MediaType.ociLayerZstd, l.digest]),
    );

    // skopeo pulls it into an OCI layout (zstd blobs as they are); each new blob is zstd frames
    // whose tar is the layer's diff_id.
    const layout = join(work, 'layout');
    await execFileP('skopeo', [
      'copy',
      '--quiet',
      '--src-tls-verify=false',
      `docker://${ref}`,
      `oci:${layout}:t`,
    ]);
    for (const l of built) {
      const blob = join(layout, 'blobs', 'sha256', l.digest.slice(7));
      const { stdout: sum } = await execFileP('sh', ['-c', 'zstd -dc "$1" | sha256sum', 'sh', blob]);
      assert.equal(`sha256:${sum.split(' ')[0]}`, l.diffId, `${l.id}: zstd -dc gives the diff_id`);
      const { stdout: list } = await execFileP('sh', ['-c', 'zstd -dc "$1" | tar -t', 'sh', blob], {
        maxBuffer: 16 << 20,
      });
      if (l.id === 'code') assert.match(list, /^src\/predict\.py$/m);
      if (l.id === 'runtime') assert.match(list, /^opt\/cogts\/server\.mjs$/m);
    }
    // umoci unpacks the image where it reads zstd; umoci 0.4.7 (Debian bookworm's) predates zstd
    // and refuses the media type, and then the layers are applied in order with tar and zstd -dc.
    const bundle = join(work, 'bundle');
    const unpacked = await execFileP('umoci', ['unpack', '--image', `${layout}:t`, bundle]).then(
      () => true,
      (e: { stderr?: string }) => {
        assert.match(
          String(e.stderr),
          /not correct mediatype: application\/vnd\.oci\.image\.layer\.v1\.tar\+zstd/,
        );
        return false;
      },
    );
    const rootfs = unpacked ? join(bundle, 'rootfs') : await applyLayers(layout, m, join(work, 'rootfs'));
    assert.equal(
      readFileSync(join(rootfs, 'src', 'data.txt'), 'utf8'),
      'some model data\n',
      'code layer content',
    );
    assert.ok(existsSync(join(rootfs, 'opt', 'cogts', 'server.mjs')), 'runtime layer content');
    assert.ok(existsSync(join(rootfs, 'usr', 'bin', 'python3')), 'base layer content');

    // The same build again: every layer from the cache, the same image.
    const warm = await cogtsBuild(f, project, ref, cache, ['--compression', 'zstd']);
    assert.equal(warm.status, 0, warm.stderr);
    assert.equal(warm.json.digest, cold.json.digest);
    assert.deepEqual(
      warm.json.layers.map((l: BuiltLayer) => l.outcome),
      ['cached', 'cached'],
    );

    // gzip with the same cache: nothing of the zstd build is reused; same tars, other blobs, and
    // the base's Docker family is kept.
    const gref = `${f.reg.host}/zstd/model:gzip`;
    const gz = await cogtsBuild(f, project, gref, cache, ['--compression', 'gzip']);
    assert.equal(gz.status, 0, gz.stderr);
    assert.doesNotMatch(gz.stderr, /OCI media types/);
    const gl: BuiltLayer[] = gz.json.layers;
    assert.deepEqual(
      gl.map((l) => l.outcome),
      ['built', 'built'],
    );
    assert.deepEqual(
      gl.map((l) => l.diffId),
      built.map((l) => l.diffId),
    );
    for (const [i, l] of gl.entries()) assert.notEqual(l.digest, built[i]!.digest);
    const gm = (await skopeoInspect(f.reg, gref, '--raw')) as Manifest;
    assert.equal(gm.mediaType, MediaType.dockerManifest);
    assert.deepEqual(
      gm.layers.slice(nBase).map((d) => d.mediaType),
      [MediaType.dockerLayerGzip, MediaType.dockerLayerGzip],
    );
    // And zstd after gzip is still the cached zstd image.
    const again = await cogtsBuild(f, project, ref, cache, ['--compression', 'zstd']);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(again.json.digest, cold.json.digest);
  });
});
