import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { sha256Digest } from '../../src/oci/digest.js';
import { appendLayers, bytesBlob, imageFromParts, toOciFamily } from '../../src/oci/image.js';
import { MediaType } from '../../src/oci/media-types.js';
import { selectPlatform } from '../../src/oci/platform.js';
import type { Layer } from '../../src/oci/types.js';

function fakeLayer(name: string, mediaType: string = MediaType.ociLayerGzip): Layer {
  const bytes = Buffer.from(name);
  return {
    digest: sha256Digest(bytes),
    diffId: sha256Digest(`${name}-tar`),
    size: bytes.length,
    mediaType,
    open: async () => Readable.from([bytes]),
  };
}

function dockerBase() {
  const l = fakeLayer('base');
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Env: ['PATH=/usr/bin', 'CUDA_VERSION=12.1'], Cmd: ['bash'], Labels: { a: '1' } },
      rootfs: { type: 'layers', diff_ids: [l.diffId] },
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.dockerManifest,
      config: { mediaType: MediaType.dockerConfig, digest: sha256Digest(config), size: config.length },
      layers: [{ mediaType: MediaType.dockerLayerGzip, digest: l.digest, size: l.size }],
    }),
  );
  return imageFromParts(manifest, config, [bytesBlob(Buffer.from('base'), MediaType.dockerLayerGzip)]);
}

test('appendLayers: Docker family kept, env merged in place, history synthesised and aligned, created pinned', () => {
  const img = appendLayers(dockerBase(), [{ layer: fakeLayer('code'), createdBy: 'COPY . /src' }], {
    env: { PATH: '/opt/bin:/usr/bin', NEW: 'x' },
    labels: { b: '2' },
    exposedPorts: ['5000'],
    cmd: ['python', '-m', 'x'],
    created: '2024-01-01T00:00:00Z',
  });
  assert.equal(img.mediaType, MediaType.dockerManifest);
  assert.equal(img.manifest.config.mediaType, MediaType.dockerConfig);
  assert.equal(img.manifest.layers[1]!.mediaType, MediaType.dockerLayerGzip);
  assert.deepEqual(img.config.config!.Env, ['PATH=/opt/bin:/usr/bin', 'CUDA_VERSION=12.1', 'NEW=x']);
  assert.deepEqual(img.config.config!.Labels, { a: '1', b: '2' });
  assert.deepEqual(img.config.config!.ExposedPorts, { '5000/tcp': {} });
  assert.deepEqual(img.config.config!.Cmd, ['python', '-m', 'x']);
  assert.equal(img.config.history!.length, 2);
  assert.equal(img.config.history![1]!.created_by, 'COPY . /src');
  assert.equal(img.config.created, '2024-01-01T00:00:00Z');
  assert.equal(img.config.rootfs.diff_ids.length, 2);
  assert.equal(img.digest, sha256Digest(img.manifestBytes));
  const oci = toOciFamily(img);
  assert.equal(oci.mediaType, MediaType.ociManifest);
  assert.equal(oci.configBlob.digest, img.configBlob.digest, 'config bytes unchanged');
  assert.deepEqual(
    oci.manifest.layers.map((l) => l.mediaType),
    [MediaType.ociLayerGzip, MediaType.ociLayerGzip],
  );
});

test('appendLayers: a zstd layer on a Docker base makes an OCI image, base blobs unchanged; SOURCE_DATE_EPOCH sets created', () => {
  const base = dockerBase();
  const img = appendLayers(base, [
    { layer: fakeLayer('g') },
    { layer: fakeLayer('z', MediaType.ociLayerZstd) },
  ]);
  assert.equal(img.mediaType, MediaType.ociManifest);
  assert.equal(img.manifest.mediaType, MediaType.ociManifest);
  assert.equal(img.manifest.config.mediaType, MediaType.ociConfig);
  assert.deepEqual(
    img.manifest.layers.map((l) => l.mediaType),
    [MediaType.ociLayerGzip, MediaType.ociLayerGzip, MediaType.ociLayerZstd],
  );
  assert.equal(img.manifest.layers[0]!.digest, base.manifest.layers[0]!.digest);
  assert.deepEqual(
    img.layers.map((l) => l.mediaType),
    img.manifest.layers.map((l) => l.mediaType),
  );
  // Gzip layers alone keep the Docker family.
  assert.equal(appendLayers(base, [{ layer: fakeLayer('g') }]).mediaType, MediaType.dockerManifest);
  process.env.SOURCE_DATE_EPOCH = '1700000000';
  try {
    assert.equal(appendLayers(dockerBase(), []).config.created, '2023-11-14T22:13:20Z');
  } finally {
    delete process.env.SOURCE_DATE_EPOCH;
  }
});

test('platform selection: variants normalised (arm64 = arm64/v8), attestations skipped', () => {
  const d = (arch: string, variant?: string, os = 'linux') => ({
    mediaType: MediaType.ociManifest,
    digest: sha256Digest(`${os}${arch}${variant}`),
    size: 1,
    platform: { os, architecture: arch, ...(variant ? { variant } : {}) },
  });
  const index = {
    schemaVersion: 2 as const,
    manifests: [d('unknown', undefined, 'unknown'), d('arm64', 'v8'), d('arm', 'v7'), d('amd64')],
  };
  assert.equal(selectPlatform(index, { os: 'linux', architecture: 'arm64' }, 'x').platform!.variant, 'v8');
  assert.equal(
    selectPlatform(index, { os: 'linux', architecture: 'arm', variant: 'v7' }, 'x').platform!.architecture,
    'arm',
  );
  assert.throws(
    () => selectPlatform(index, { os: 'linux', architecture: 'arm', variant: 'v6' }, 'x'),
    /no image for linux\/arm\/v6/,
  );
});
