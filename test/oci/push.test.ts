import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { buildLayer } from '../../src/layer/build.js';
import { appendLayers } from '../../src/oci/image.js';
import { writeOciLayout } from '../../src/oci/layout.js';
import { MediaType } from '../../src/oci/media-types.js';
import { parseOutput, writeOutput } from '../../src/oci/output.js';
import { pushImage } from '../../src/oci/push.js';
import { parseReference } from '../../src/oci/reference.js';
import { remoteImage } from '../../src/oci/remote.js';
import { Registries } from '../../src/registry/client.js';
import { staticCredentials } from '../../src/registry/credentials.js';
import { codeEntries } from '../../src/sources/code.js';
import {
  type BaseImages,
  pushBaseImages,
  skopeoInspect,
  startRegistry,
  type TestRegistry,
} from '../helpers/registry.js';

const execFileP = promisify(execFile);
let reg: TestRegistry;
let bases: BaseImages;
let work: string;

function makeProject(dir: string): void {
  mkdirSync(join(dir, 'weights'), { recursive: true });
  mkdirSync(join(dir, '.git'), { recursive: true });
  mkdirSync(join(dir, 'cache', 'x'), { recursive: true });
  writeFileSync(join(dir, 'predict.py'), 'from cog import BasePredictor\n');
  writeFileSync(join(dir, 'cog.yaml'), 'predict: predict.py:Predictor\n');
  writeFileSync(join(dir, 'run.sh'), '#!/bin/sh\n');
  chmodSync(join(dir, 'run.sh'), 0o700);
  writeFileSync(join(dir, 'weights', 'model.bin'), Buffer.alloc(300_000, 7));
  writeFileSync(join(dir, 'weights', 'scratch.tmp'), 'tmp');
  writeFileSync(join(dir, 'secret.env'), 'TOKEN=x');
  writeFileSync(join(dir, 'cache', 'x', 'big'), 'cache');
  writeFileSync(join(dir, '.git', 'HEAD'), 'ref: refs/heads/main\n');
  writeFileSync(join(dir, '.dockerignore'), 'secret.env\ncache/\n');
  writeFileSync(join(dir, '.cogignore'), '*.tmp\n');
  symlinkSync('predict.py', join(dir, 'main.py'));
}

const EXPECTED_SRC = [
  '.cogignore',
  '.dockerignore',
  'cog.yaml',
  'main.py',
  'predict.py',
  'run.sh',
  'weights',
  'weights/model.bin',
];

const newRegistries = () =>
  new Registries({
    credentials: staticCredentials({ [reg.host]: { username: reg.username!, password: reg.password! } }),
  });

async function build(project: string, base: string, blobDir: string, target: string, keep?: Registries) {
  const registries = keep ?? newRegistries();
  try {
    const baseImage = await remoteImage(registries, parseReference(base));
    const layer = await buildLayer(await codeEntries(project), { blobDir });
    const image = appendLayers(baseImage, [{ layer, createdBy: 'COPY . /src' }], {
      env: { PYTHONUNBUFFERED: '1', PATH: '/opt/cogts/bin:/usr/bin:/bin' },
      workingDir: '/src',
      exposedPorts: ['5000/tcp'],
      labels: { 'run.cog.version': 'test', 'org.opencontainers.image.base.digest': baseImage.resolvedDigest },
      entrypoint: ['/opt/cogts/bin/node', '/opt/cogts/server.mjs'],
    });
    const pushed = await pushImage(registries, image, parseReference(target));
    return { image, pushed, layer };
  } finally {
    if (!keep) await registries.close();
  }
}

before(async () => {
  reg = await startRegistry({ auth: 'token' });
  bases = await pushBaseImages(reg);
  work = mkdtempSync(join(tmpdir(), 'cogts-push-'));
  makeProject(join(work, 'proj'));
});
after(async () => {
  await reg?.stop();
  rmSync(work, { recursive: true, force: true });
});

function walk(dir: string, prefix = ''): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .flatMap((d) => {
      const rel = prefix ? `${prefix}/${d.name}` : d.name;
      return d.isDirectory() ? [rel, ...walk(join(dir, d.name), rel)] : [rel];
    })
    .sort();
}

test('OCI base: push, then skopeo inspect and umoci unpack show the image and /src minus ignored files', async () => {
  const target = `${reg.host}/models/oci:v1`;
  const { pushed, image } = await build(join(work, 'proj'), bases.oci, join(work, 'blobs1'), target);
  assert.match(pushed.reference, new RegExp(`^${reg.host}/models/oci@sha256:[a-f0-9]{64}$`));
  assert.equal(image.mediaType, MediaType.ociManifest);
  assert.equal(image.manifest.layers.at(-1)!.mediaType, MediaType.ociLayerGzip);
  // The base layer lives in base/oci on the same registry: mounted, not re-uploaded.
  assert.ok(
    pushed.blobs.some((b) => b.result === 'mounted'),
    JSON.stringify(pushed.blobs),
  );
  const raw = (await skopeoInspect(reg, target, '--raw')) as { layers: unknown[] };
  assert.equal(raw.layers.length, 2);
  const cfg = (await skopeoInspect(reg, target, '--config')) as {
    config: {
      Env: string[];
      WorkingDir: string;
      ExposedPorts: object;
      Labels: Record<string, string>;
      Entrypoint: string[];
      Cmd?: string[];
    };
    history: unknown[];
    rootfs: { diff_ids: string[] };
    created: string;
  };
  assert.equal(cfg.config.WorkingDir, '/src');
  assert.deepEqual(cfg.config.ExposedPorts, { '5000/tcp': {} });
  assert.ok(cfg.config.Env.includes('LD_LIBRARY_PATH=/usr/local/cuda/lib64'), 'base env kept');
  assert.ok(cfg.config.Env.includes('PATH=/opt/cogts/bin:/usr/bin:/bin'), 'env overridden in place');
  assert.equal(cfg.config.Labels['org.example.base'], 'cogts-test');
  assert.equal(cfg.config.Labels['run.cog.version'], 'test');
  assert.equal(cfg.config.Cmd, undefined, 'entrypoint clears the base Cmd');
  assert.equal(
    cfg.history.filter((h) => !(h as { empty_layer?: boolean }).empty_layer).length,
    2,
    'history aligned',
  );
  assert.equal(cfg.rootfs.diff_ids.length, 2);
  assert.equal(cfg.created, '1970-01-01T00:00:00Z');
  // umoci unpack of what skopeo pulls back: the bundle's /src is the project minus ignored files.
  const layout = join(work, 'pulled');
  await execFileP('skopeo', [
    'copy',
    '--quiet',
    '--src-tls-verify=false',
    '--src-creds',
    `${reg.username}:${reg.password}`,
    `docker://${target}`,
    `oci:${layout}:t`,
  ]);
  const bundle = join(work, 'bundle');
  await execFileP('umoci', ['unpack', '--image', `${layout}:t`, bundle]);
  const src = join(bundle, 'rootfs', 'src');
  assert.deepEqual(walk(src), EXPECTED_SRC);
  assert.equal(readlinkSync(join(src, 'main.py')), 'predict.py');
  assert.equal(lstatSync(join(src, 'run.sh')).mode & 0o777, 0o755);
  assert.equal(lstatSync(join(src, 'predict.py')).mode & 0o777, 0o644);
  assert.deepEqual(readFileSync(join(src, 'weights', 'model.bin')), Buffer.alloc(300_000, 7));
  assert.equal(
    readFileSync(join(bundle, 'rootfs', 'etc', 'os-release'), 'utf8').split('\n')[0],
    'ID=cogts-test',
  );
});

test('Docker schema2 base: new layer and config take Docker media types', async () => {
  const target = `${reg.host}/models/docker:v1`;
  const { image } = await build(join(work, 'proj'), bases.docker, join(work, 'blobs2'), target);
  const raw = (await skopeoInspect(reg, target, '--raw')) as {
    mediaType: string;
    config: { mediaType: string };
    layers: { mediaType: string }[];
  };
  assert.equal(raw.mediaType, MediaType.dockerManifest);
  assert.equal(raw.config.mediaType, MediaType.dockerConfig);
  assert.deepEqual(
    raw.layers.map((l) => l.mediaType),
    [MediaType.dockerLayerGzip, MediaType.dockerLayerGzip],
  );
  assert.equal(image.mediaType, MediaType.dockerManifest);
});

test('multi-platform base: the index resolves by platform, unknown/unknown is skipped', async () => {
  const registries = newRegistries();
  try {
    const amd = await remoteImage(registries, parseReference(bases.multi));
    assert.equal(amd.config.architecture, 'amd64');
    assert.equal(amd.layers.length, 1);
    const arm = await remoteImage(registries, parseReference(bases.multi), { platform: 'linux/arm64' });
    assert.equal(arm.config.architecture, 'arm64');
    assert.equal(arm.layers.length, 2);
    await assert.rejects(
      remoteImage(registries, parseReference(bases.multi), { platform: 'linux/s390x' }),
      /has no image for linux\/s390x \(it has: linux\/arm64\/v8, linux\/amd64\)/,
    );
  } finally {
    await registries.close();
  }
});

test('determinism: clean rebuilds give the same digest; one changed file changes only the code layer', async () => {
  const proj = join(work, 'proj');
  const a = await build(proj, bases.oci, join(work, 'det-a'), `${reg.host}/models/det:a`);
  const b = await build(proj, bases.oci, join(work, 'det-b'), `${reg.host}/models/det:b`);
  assert.equal(a.pushed.digest, b.pushed.digest);
  writeFileSync(join(proj, 'predict.py'), 'from cog import BasePredictor  # changed\n');
  try {
    const c = await build(proj, bases.oci, join(work, 'det-c'), `${reg.host}/models/det:c`);
    assert.notEqual(c.pushed.digest, a.pushed.digest);
    const la = a.image.manifest.layers.map((l) => l.digest);
    const lc = c.image.manifest.layers.map((l) => l.digest);
    assert.equal(la[0], lc[0]);
    assert.notEqual(la[1], lc[1]);
    assert.deepEqual(
      c.pushed.blobs
        .filter((x) => x.result === 'uploaded')
        .map((x) => x.digest)
        .sort(),
      [c.layer.digest, c.image.configBlob.digest].sort(),
    );
  } finally {
    writeFileSync(join(proj, 'predict.py'), 'from cog import BasePredictor\n');
  }
});

test('oci: layout and docker-archive writers are readable by skopeo', async () => {
  const registries = newRegistries();
  after(() => registries.close());
  const { image } = await build(
    join(work, 'proj'),
    bases.docker,
    join(work, 'blobs3'),
    `${reg.host}/models/out:v1`,
    registries,
  );
  const dir = join(work, 'layout');
  await writeOciLayout(image, dir, 'v1');
  const fromLayout = JSON.parse(
    (await execFileP('skopeo', ['inspect', '--raw', `oci:${dir}:v1`])).stdout,
  ) as { layers: unknown[] };
  assert.equal(fromLayout.layers.length, 2);
  const tarFile = join(work, 'image.tar');
  assert.equal(
    await writeOutput(image, parseOutput(`docker-archive:${tarFile}`), 'example.com/models/out:v1'),
    `docker-archive:${tarFile}`,
  );
  const info = JSON.parse((await execFileP('skopeo', ['inspect', `docker-archive:${tarFile}`])).stdout) as {
    Layers: string[];
    Labels: Record<string, string>;
  };
  assert.equal(info.Layers.length, 2);
  assert.equal(info.Labels['run.cog.version'], 'test');
  // skopeo re-reads every blob and checks diff_ids when copying out of the archive.
  await execFileP('skopeo', [
    'copy',
    '--quiet',
    `docker-archive:${tarFile}`,
    `oci:${join(work, 'from-archive')}:x`,
  ]);
});
