import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRequirement } from '../../src/compat/pins.js';
import { resolveToolchain } from '../../src/compat/resolve.js';
import type { BuildConfig, Config } from '../../src/config/types.js';
import { CogtsError } from '../../src/errors.js';
import { formatPlan } from '../../src/plan/format.js';
import { makePlan } from '../../src/plan/make.js';
import { type PlanOptions, planOptionsFrom, type RawBuildOptions } from '../../src/plan/options.js';
import { raw } from './raw-options.js';

function config(build: Partial<BuildConfig>, extra: Partial<Config> = {}): Config {
  return {
    file: '/models/m/cog.yaml',
    projectDir: '/models/m',
    build: {
      gpu: false,
      pythonVersion: '3.11',
      pythonPackages: [],
      systemPackages: [],
      run: [],
      preInstall: [],
      ...build,
    },
    environment: [],
    raw: { build: { python_version: '3.11' }, predict: 'predict.py:Predictor' },
    predict: 'predict.py:Predictor',
    ...extra,
  };
}

function options(over: Partial<RawBuildOptions> = {}, env: Record<string, string> = {}): PlanOptions {
  return planOptionsFrom({ ...raw, ...over }, env, '9.9.9', '/home/u');
}

function plan(c: Config, opts = options()) {
  const pins = {
    requirements: c.build.pythonPackages.map((p, i) => parseRequirement(p, `p${i}`)),
    extraIndexUrls: [],
    findLinks: [],
  };
  return makePlan(c, resolveToolchain(c, pins), opts);
}

test('layers are ordered by rate of change: apt, python, pip, runtime, code', () => {
  const p = plan(config({ systemPackages: ['libgl1'], pythonPackages: ['numpy==1.26.4'] }));
  assert.deepEqual(
    p.layers.map((l) => `${l.kind}:${l.id}`),
    ['apt:apt', 'python:python', 'pip:pip', 'runtime:runtime', 'code:code'],
  );
  const apt = p.layers[0]!;
  assert.equal(apt.kind, 'apt');
  if (apt.kind === 'apt') assert.deepEqual(apt.packages, ['libgl1']);
  const code = p.layers.at(-1)!;
  assert.ok(code.kind === 'code' && code.sourceDir === '/models/m' && code.target === '/src');
});

test('no system packages and no requirements: only python, runtime and code layers', () => {
  const p = plan(config({}));
  assert.deepEqual(
    p.layers.map((l) => l.kind),
    ['python', 'runtime', 'code'],
  );
});

test('GPU torch: one pip layer spec; CUDA libraries and torch are split out by size when built', () => {
  const p = plan(config({ gpu: true, pythonPackages: ['torch==2.1.0', 'pillow==10.0.0'] }));
  const pips = p.layers.filter((l) => l.kind === 'pip');
  // One spec, not one per framework: each pip spec resolves and installs every wheel, so three
  // specs put torch in the image three times.
  assert.deepEqual(
    pips.map((l) => l.id),
    ['pip'],
  );
  assert.equal(pips[0]?.kind === 'pip' && pips[0].ownLayerBytes, 100 * 1024 * 1024);
  assert.match(pips[0]?.description ?? '', /nvidia-\* CUDA libraries, torch 2\.1\.0/);
  assert.match(p.base.ref, /nvidia\/cuda:12\.1\.\d-base-ubuntu22\.04$/);
  assert.deepEqual(
    p.python.requirements.map((r) => r.line),
    ['torch==2.1.0+cu121', 'pillow==10.0.0'],
  );
  assert.ok(p.python.extraIndexUrls.includes('https://download.pytorch.org/whl/cu121'));
  assert.equal(p.image.labels['dev.cogts.cuda'], p.toolchain.cuda);
});

test('image config: entrypoint, workdir, port, env, labels', () => {
  const c = config(
    {},
    { environment: [['HF_HOME', '/src/.hf']], concurrency: { max: 4 }, image: 'r8.im/me/m' },
  );
  const p = plan(c);
  assert.deepEqual(p.image.entrypoint, ['/opt/cogts/bin/node', '/opt/cogts/server.mjs']);
  assert.equal(p.image.workingDir, '/src');
  assert.deepEqual(p.image.exposedPorts, ['5000/tcp']);
  assert.deepEqual(
    p.image.env.map((e) => `${e.name}=${e.value}`),
    ['PYTHONUNBUFFERED=1', 'PYTHONPATH=/opt/cogts/python', 'COG_MAX_CONCURRENCY=4', 'HF_HOME=/src/.hf'],
  );
  assert.deepEqual(JSON.parse(p.image.labels['run.cog.config']!), c.raw);
  assert.equal(p.image.labels['run.cog.version'], '9.9.9');
  assert.equal(p.target.tag, 'r8.im/me/m', 'cog.yaml image: names the image when -t is not given');
  assert.ok(p.image.pendingLabels.includes('run.cog.openapi_schema'));
});

test('build.run and pre_install become run layers around pip, with a note', () => {
  const p = plan(
    config({ preInstall: ['echo pre'], run: [{ command: 'echo post' }], pythonPackages: ['six'] }),
  );
  assert.deepEqual(
    p.layers.map((l) => l.id),
    ['python', 'pre-install', 'pip', 'run', 'runtime', 'code'],
  );
  assert.ok(p.notes.some((n) => /build\.run/.test(n)));
});

test('the plan is plain data and deterministic', () => {
  const c = config({ gpu: true, pythonPackages: ['tensorflow==2.15.0'] });
  const a = plan(c);
  const b = plan(c);
  assert.deepEqual(a, b);
  assert.deepEqual(JSON.parse(JSON.stringify(a)), a);
  assert.match(formatPlan(a), /cudnn8-runtime/);
});

test('options: mirrors from env and flags, cache dir precedence, target parsing', () => {
  const o = options(
    {
      registryMirror: ['ghcr.io=http://127.0.0.1:5001/'],
      output: 'oci:/tmp/out',
      push: '127.0.0.1:5000/m:1',
      tag: 'm:1',
    },
    {
      COGTS_REGISTRY_MIRRORS: 'docker.io=http://127.0.0.1:5000, quay.io=https://mirror.example',
      COGTS_CACHE_DIR: '/var/c',
    },
  );
  assert.deepEqual(o.network.registryMirrors, [
    { host: 'docker.io', url: 'http://127.0.0.1:5000' },
    { host: 'quay.io', url: 'https://mirror.example' },
    { host: 'ghcr.io', url: 'http://127.0.0.1:5001' },
  ]);
  assert.equal(o.cache.dir, '/var/c');
  assert.equal(options({ cacheDir: '/flag' }, { COGTS_CACHE_DIR: '/env' }).cache.dir, '/flag');
  assert.equal(options({}, {}).cache.dir, '/home/u/.cache/cogts');
  assert.deepEqual(o.target, {
    tag: 'm:1',
    push: '127.0.0.1:5000/m:1',
    output: { kind: 'oci', path: '/tmp/out' },
  });
  assert.deepEqual(options({ platform: 'linux/arm64/v8' }).platform, {
    os: 'linux',
    architecture: 'arm64',
    variant: 'v8',
  });
  assert.equal(
    options({}, { COGTS_TORCH_INDEX: 'http://127.0.0.1:9/whl' }).torchIndex,
    'http://127.0.0.1:9/whl',
  );
  assert.equal(options({ torchIndex: 'none' }, { COGTS_TORCH_INDEX: 'http://x/whl' }).torchIndex, 'none');
});

test('options: bad mirror, platform, output and cuda variant are usage errors naming the value', () => {
  const bad: [Partial<RawBuildOptions>, Record<string, string>, RegExp][] = [
    [{ registryMirror: ['docker.io'] }, {}, /"docker\.io": expected HOST=URL/],
    [{}, { COGTS_REGISTRY_MIRRORS: 'docker.io=ftp://x' }, /expected HOST=URL/],
    [{ platform: 'windows/amd64' }, {}, /--platform windows\/amd64/],
    [{ output: 'tar:/x' }, {}, /--output tar:\/x/],
    [{ cudaVariant: 'cudnn' }, {}, /--cuda-variant cudnn/],
    [{ torchIndex: 'cu121' }, {}, /--torch-index cu121: expected a URL/],
  ];
  for (const [over, env, re] of bad) {
    assert.throws(
      () => options(over, env),
      (e: unknown) => e instanceof CogtsError && e.code === 'E_USAGE' && re.test(e.message),
    );
  }
});
