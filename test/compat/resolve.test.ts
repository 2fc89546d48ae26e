import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ParsedPins, parseRequirement } from '../../src/compat/pins.js';
import { resolveToolchain, type ToolchainOptions } from '../../src/compat/resolve.js';
import type { BuildConfig, Config } from '../../src/config/types.js';
import { CogtsError } from '../../src/errors.js';

function config(gpu: boolean, python: string | undefined, build: Partial<BuildConfig> = {}): Config {
  const b: BuildConfig = { gpu, pythonPackages: [], systemPackages: [], run: [], preInstall: [], ...build };
  if (python !== undefined) b.pythonVersion = python;
  return { file: '/m/cog.yaml', projectDir: '/m', build: b, environment: [], raw: {} };
}

function pins(lines: string[], extraIndexUrls: string[] = []): ParsedPins {
  return {
    requirements: lines.map((l, i) => parseRequirement(l, `requirements.txt:${i + 1}`)),
    extraIndexUrls,
    findLinks: [],
  };
}

interface Case {
  name: string;
  gpu: boolean;
  python?: string;
  reqs: string[];
  build?: Partial<BuildConfig>;
  indexes?: string[];
  options?: ToolchainOptions;
  /** Expected base image reference (regex) … */
  base?: RegExp;
  index?: string | null;
  variant?: 'base' | 'runtime' | 'devel';
  cudnn?: string | null;
  /** requirement lines after rewriting */
  lines?: string[];
  /** … or an error whose message (and hint) match these. */
  error?: RegExp[];
}

const cpuBase = /^docker\.io\/library\/debian:bookworm-slim$/;
const whl = (b: string) => `https://download.pytorch.org/whl/${b}`;

const cases: Case[] = [
  // --- torch on GPU: newest CUDA build, `base` image ---------------------------------------
  {
    name: 'issue example: gpu + py3.11 + torch==2.1.0 → CUDA 12.1 base, cu121 index',
    gpu: true,
    python: '3.11',
    reqs: ['torch==2.1.0'],
    base: /^docker\.io\/nvidia\/cuda:12\.1\.\d+-base-ubuntu22\.04$/,
    index: whl('cu121'),
    variant: 'base',
    cudnn: null,
    lines: ['torch==2.1.0+cu121'],
  },
  {
    name: 'torch 1.13.1 py3.8 gpu → cu117',
    gpu: true,
    python: '3.8',
    reqs: ['torch==1.13.1'],
    base: /cuda:11\.7\.1-base-ubuntu22\.04$/,
    index: whl('cu117'),
  },
  {
    name: 'torch 1.13.0 py3.10 gpu',
    gpu: true,
    python: '3.10',
    reqs: ['torch==1.13.0'],
    base: /cuda:11\.7\.\d-base-/,
    index: whl('cu117'),
  },
  {
    name: 'torch 2.0.1 py3.9 gpu → cu118',
    gpu: true,
    python: '3.9',
    reqs: ['torch==2.0.1'],
    base: /cuda:11\.8\.0-base-ubuntu22\.04$/,
    index: whl('cu118'),
  },
  {
    name: 'torch 2.2.2 py3.12 gpu → cu121',
    gpu: true,
    python: '3.12',
    reqs: ['torch==2.2.2'],
    base: /cuda:12\.1\.1-base-/,
    index: whl('cu121'),
  },
  { name: 'torch 2.3.1 py3.8 gpu', gpu: true, python: '3.8', reqs: ['torch==2.3.1'], index: whl('cu121') },
  {
    name: 'torch 2.4.1 py3.12 gpu → cu124',
    gpu: true,
    python: '3.12',
    reqs: ['torch==2.4.1'],
    base: /cuda:12\.4\.1-base-ubuntu22\.04$/,
    index: whl('cu124'),
  },
  {
    name: 'torch 2.5.1 py3.13 gpu → cu124',
    gpu: true,
    python: '3.13',
    reqs: ['torch==2.5.1'],
    index: whl('cu124'),
  },
  {
    name: 'torch 2.6.0 py3.13 gpu → cu126',
    gpu: true,
    python: '3.13',
    reqs: ['torch==2.6.0'],
    base: /cuda:12\.6\.3-base-ubuntu22\.04$/,
    index: whl('cu126'),
  },
  {
    name: 'torch 2.7.1 py3.11 gpu → cu128',
    gpu: true,
    python: '3.11',
    reqs: ['torch==2.7.1'],
    base: /cuda:12\.8\.1-base-/,
    index: whl('cu128'),
  },
  {
    name: 'torch 2.8.0 py3.12 gpu → cu129',
    gpu: true,
    python: '3.12',
    reqs: ['torch==2.8.0'],
    base: /cuda:12\.9\.1-base-/,
    index: whl('cu129'),
  },
  {
    name: 'torch 2.9.0 py3.13 gpu → cu130',
    gpu: true,
    python: '3.13',
    reqs: ['torch==2.9.0'],
    base: /cuda:13\.0\.\d-base-ubuntu22\.04$/,
    index: whl('cu130'),
  },
  // --- torch on CPU: cpu wheels, Debian base --------------------------------------------------
  {
    name: 'torch 2.1.0 py3.11 cpu → cpu index',
    gpu: false,
    python: '3.11',
    reqs: ['torch==2.1.0'],
    base: cpuBase,
    index: whl('cpu'),
    lines: ['torch==2.1.0+cpu'],
  },
  {
    name: 'torch 1.13.1 py3.10 cpu',
    gpu: false,
    python: '3.10',
    reqs: ['torch==1.13.1'],
    base: cpuBase,
    index: whl('cpu'),
  },
  {
    name: 'torch 2.5.0 py3.9 cpu',
    gpu: false,
    python: '3.9',
    reqs: ['torch==2.5.0'],
    base: cpuBase,
    index: whl('cpu'),
  },
  {
    name: 'torch 2.9.1 py3.13 cpu',
    gpu: false,
    python: '3.13',
    reqs: ['torch==2.9.1'],
    base: cpuBase,
    index: whl('cpu'),
  },
  {
    name: 'cpu: unpinned torchvision gets the paired release',
    gpu: false,
    python: '3.11',
    reqs: ['torch==2.1.0', 'torchvision', 'torchaudio'],
    lines: ['torch==2.1.0+cpu', 'torchvision==0.16.0', 'torchaudio==2.1.0'],
  },
  // --- ranges, local labels, user indexes -------------------------------------------------------
  {
    name: 'range torch>=2,<2.2 py3.11 gpu → 2.1.2 cu121, range kept',
    gpu: true,
    python: '3.11',
    reqs: ['torch>=2,<2.2'],
    index: whl('cu121'),
    lines: ['torch>=2,<2.2'],
  },
  {
    name: 'range torch>=2 with py3.8 → newest with 3.8 wheels (2.4.1)',
    gpu: true,
    python: '3.8',
    reqs: ['torch>=2'],
    index: whl('cu124'),
  },
  {
    name: 'pin torch==2.1.0+cu118 → CUDA 11.8 image',
    gpu: true,
    python: '3.11',
    reqs: ['torch==2.1.0+cu118'],
    base: /cuda:11\.8\.0-base-/,
    index: whl('cu118'),
    lines: ['torch==2.1.0+cu118'],
  },
  {
    name: '--extra-index-url cu118 in requirements → 11.8',
    gpu: true,
    python: '3.10',
    reqs: ['torch==2.1.0'],
    indexes: [whl('cu118')],
    base: /cuda:11\.8\.0-base-/,
    index: whl('cu118'),
  },
  {
    name: 'unknown newer torch with a user index still builds (cu130 → CUDA 13.0)',
    gpu: true,
    python: '3.11',
    reqs: ['torch==2.14.1'],
    indexes: ['http://127.0.0.1:8080/whl/cu130/'],
    base: /cuda:13\.0\.\d-base-/,
    index: 'http://127.0.0.1:8080/whl/cu130/',
    lines: ['torch==2.14.1'],
  },
  {
    name: 'unknown newer torch on CPU builds with the cpu index',
    gpu: false,
    python: '3.11',
    reqs: ['torch==2.13.0'],
    base: cpuBase,
    index: whl('cpu'),
  },
  {
    name: 'unknown newer torch with build.cuda builds',
    gpu: true,
    python: '3.12',
    reqs: ['torch==2.14.1'],
    build: { cuda: '12.8' },
    base: /cuda:12\.8\.1-base-/,
    index: whl('cu128'),
  },
  // --- explicit build.cuda --------------------------------------------------------------------
  {
    name: 'build.cuda 11.8 with torch 2.1.0',
    gpu: true,
    python: '3.11',
    reqs: ['torch==2.1.0'],
    build: { cuda: '11.8' },
    base: /cuda:11\.8\.0-base-/,
    index: whl('cu118'),
  },
  {
    name: 'build.cuda 12.4 with torch 2.1.0 → cu121 wheels on a 12.4 image',
    gpu: true,
    python: '3.11',
    reqs: ['torch==2.1.0'],
    build: { cuda: '12.4' },
    base: /cuda:12\.4\.1-base-/,
    index: whl('cu121'),
  },
  {
    name: 'build.cuda with a patch version is used exactly',
    gpu: true,
    python: '3.11',
    reqs: ['torch==2.1.0'],
    build: { cuda: '12.1.0' },
    base: /cuda:12\.1\.0-base-ubuntu22\.04$/,
  },
  {
    name: 'build.cuda ignored on CPU',
    gpu: false,
    python: '3.11',
    reqs: ['torch==2.1.0'],
    build: { cuda: '12.1' },
    base: cpuBase,
  },
  // --- variants --------------------------------------------------------------------------------
  {
    name: 'build.cudnn forces a cuDNN runtime image',
    gpu: true,
    python: '3.11',
    reqs: ['torch==2.1.0'],
    build: { cudnn: '8' },
    base: /cuda:12\.1\.1-cudnn8-runtime-ubuntu22\.04$/,
    variant: 'runtime',
    cudnn: '8',
  },
  {
    name: '--cuda-variant devel',
    gpu: true,
    python: '3.11',
    reqs: ['torch==2.1.0'],
    options: { cudaVariant: 'devel' },
    base: /cuda:12\.1\.1-devel-ubuntu22\.04$/,
    variant: 'devel',
  },
  {
    name: 'flash-attn needs nvcc → devel',
    gpu: true,
    python: '3.11',
    reqs: ['torch==2.1.0', 'flash-attn==2.5.0'],
    variant: 'devel',
    base: /-devel-/,
  },
  {
    name: 'build.run calling nvcc → devel',
    gpu: true,
    python: '3.11',
    reqs: ['torch==2.1.0'],
    build: { run: [{ command: 'nvcc --version' }] },
    variant: 'devel',
  },
  {
    name: 'gpu without a framework → newest cuDNN runtime of the default CUDA',
    gpu: true,
    python: '3.12',
    reqs: ['onnxruntime-gpu==1.20.0'],
    base: /cuda:12\.8\.1-cudnn-runtime-ubuntu22\.04$/,
    variant: 'runtime',
    cudnn: '9',
  },
  {
    name: '--base-image overrides the image but not the index',
    gpu: true,
    python: '3.11',
    reqs: ['torch==2.1.0'],
    options: { baseImage: '127.0.0.1:5000/my/base:1' },
    base: /^127\.0\.0\.1:5000\/my\/base:1$/,
    index: whl('cu121'),
  },
  {
    name: '--base-image with a CUDA cogts has no image for still resolves the torch build',
    gpu: true,
    python: '3.11',
    reqs: ['torch==2.6.0'],
    build: { cuda: '12.7' },
    options: { baseImage: 'ghcr.io/me/cuda:12.7' },
    base: /^ghcr\.io\/me\/cuda:12\.7$/,
    index: whl('cu126'),
  },
  {
    name: '--torch-index points the cuXYZ index at a mirror',
    gpu: true,
    python: '3.11',
    reqs: ['torch==2.1.0'],
    options: { torchIndex: 'http://127.0.0.1:8081/whl/' },
    index: 'http://127.0.0.1:8081/whl/cu121',
    lines: ['torch==2.1.0+cu121'],
  },
  {
    name: '--torch-index none adds no index and keeps the pin as written',
    gpu: true,
    python: '3.11',
    reqs: ['torch==2.1.0', 'torchvision'],
    options: { torchIndex: 'none' },
    base: /cuda:12\.1\.1-base-/,
    index: null,
    lines: ['torch==2.1.0', 'torchvision==0.16.0'],
  },
  // --- tensorflow ----------------------------------------------------------------------------
  {
    name: 'tf 2.15 gpu → cudnn8 runtime CUDA 12.2',
    gpu: true,
    python: '3.11',
    reqs: ['tensorflow==2.15.0'],
    base: /cuda:12\.2\.2-cudnn8-runtime-ubuntu22\.04$/,
    variant: 'runtime',
    cudnn: '8',
    index: null,
  },
  {
    name: 'tf 2.13 gpu py3.8 → 11.8 cudnn8',
    gpu: true,
    python: '3.8',
    reqs: ['tensorflow==2.13.0'],
    base: /cuda:11\.8\.0-cudnn8-runtime-/,
  },
  {
    name: 'tf 2.19 gpu → cuDNN 9 runtime CUDA 12.5',
    gpu: true,
    python: '3.12',
    reqs: ['tensorflow==2.19.0'],
    base: /cuda:12\.5\.1-cudnn-runtime-ubuntu22\.04$/,
    cudnn: '9',
  },
  {
    name: 'tf 2.16.1 gpu: no cudnn8 image for 12.3 → base + tensorflow[and-cuda]',
    gpu: true,
    python: '3.11',
    reqs: ['tensorflow==2.16.1'],
    base: /cuda:12\.3\.2-base-/,
    variant: 'base',
    lines: ['tensorflow[and-cuda]==2.16.1'],
  },
  {
    name: 'tensorflow-cpu on a GPU model asks nothing of the image (torch decides)',
    gpu: true,
    python: '3.11',
    reqs: ['tensorflow-cpu==2.15.0', 'torch==2.1.0'],
    base: /cuda:12\.1\.1-base-/,
    variant: 'base',
  },
  {
    name: 'tf on CPU → Debian base, nothing rewritten',
    gpu: false,
    python: '3.11',
    reqs: ['tensorflow==2.15.0'],
    base: cpuBase,
    lines: ['tensorflow==2.15.0'],
  },
  {
    name: 'tf 2.15 + torch 2.1.0 on GPU → tensorflow image, torch build on the same CUDA major',
    gpu: true,
    python: '3.11',
    reqs: ['tensorflow==2.15.0', 'torch==2.1.0'],
    base: /cuda:12\.2\.2-cudnn8-runtime-/,
    index: whl('cu121'),
    lines: ['tensorflow==2.15.0', 'torch==2.1.0+cu121'],
  },
  { name: 'default Python when none is given', gpu: false, python: undefined, reqs: [], base: cpuBase },
  // --- conflicts -----------------------------------------------------------------------------
  {
    name: 'torch==2.1.0 with Python 3.13 → error naming both',
    gpu: true,
    python: '3.13',
    reqs: ['torch==2.1.0'],
    error: [/torch==2\.1\.0/, /Python 3\.13/, /3\.11/, /torch>=2\.5/],
  },
  {
    name: 'torch==2.9.0 with Python 3.8 → error suggesting an older torch',
    gpu: false,
    python: '3.8',
    reqs: ['torch==2.9.0'],
    error: [/torch==2\.9\.0/, /Python 3\.8/, /torch<=2\.4\.1/],
  },
  {
    name: 'build.cuda 10.2 with torch 2.1 → error listing 11.8, 12.1',
    gpu: true,
    python: '3.11',
    reqs: ['torch==2.1.0'],
    build: { cuda: '10.2' },
    error: [/CUDA 10\.2/, /torch 2\.1\.0/, /"11\.8", "12\.1"/],
  },
  {
    name: 'torch 2.1.0+cu124 does not exist',
    gpu: true,
    python: '3.11',
    reqs: ['torch==2.1.0+cu124'],
    error: [/no cu124 build/, /cpu, cu118, cu121/],
  },
  {
    name: 'torchvision that does not pair with torch',
    gpu: false,
    python: '3.11',
    reqs: ['torch==2.1.0', 'torchvision==0.15.2'],
    error: [/torchvision==0\.15\.2/, /torchvision==0\.16\.0/],
  },
  {
    name: 'unknown newer torch on GPU without an index → error asking for one',
    gpu: true,
    python: '3.11',
    reqs: ['torch==2.14.1'],
    error: [/newer than cogts/, /2\.11\.0/, /extra-index-url/],
  },
  {
    name: 'tf 2.10 with Python 3.12 → error',
    gpu: true,
    python: '3.12',
    reqs: ['tensorflow==2.10.0'],
    error: [/tensorflow==2\.10\.0/, /Python 3\.12/],
  },
  {
    name: 'build.cuda conflicting with tensorflow',
    gpu: true,
    python: '3.11',
    reqs: ['tensorflow==2.15.0'],
    build: { cuda: '11.8' },
    error: [/11\.8/, /CUDA 12\.2/],
  },
  {
    name: 'CUDA with no image at all → error listing what exists',
    gpu: true,
    python: '3.12',
    reqs: [],
    build: { cuda: '12.7' },
    error: [/CUDA 12\.7/, /12\.6, 12\.8/],
  },
];

for (const c of cases) {
  test(`compat: ${c.name}`, () => {
    const cfg = config(c.gpu, c.python, c.build);
    const run = () => resolveToolchain(cfg, pins(c.reqs, c.indexes), c.options);
    if (c.error) {
      assert.throws(run, (e: unknown) => {
        assert.ok(e instanceof CogtsError, String(e));
        assert.equal(e.code, 'E_COMPAT');
        const text = `${e.message}\n${e.hint ?? ''}`;
        for (const re of c.error!) assert.match(text, re);
        return true;
      });
      return;
    }
    const t = run();
    if (c.base) assert.match(t.baseImage.ref, c.base);
    if (c.index !== undefined) assert.equal(t.torchIndexUrl ?? null, c.index);
    if (c.index) assert.ok(t.extraIndexUrls.includes(c.index) || (c.indexes ?? []).includes(c.index));
    if (c.variant) assert.equal(t.cudaVariant, c.variant);
    if (c.cudnn !== undefined) assert.equal(t.cudnn ?? null, c.cudnn);
    if (c.lines)
      assert.deepEqual(
        t.requirements.map((r) => r.line),
        c.lines,
      );
    if (c.gpu && !c.options?.baseImage) {
      assert.ok(t.cuda, 'a GPU toolchain names its CUDA');
      assert.ok(t.cudaVariantWhy && t.baseImage.why.length > 20, 'and says why');
    }
    if (!c.gpu) assert.equal(t.cuda, undefined);
    assert.deepEqual(JSON.parse(JSON.stringify(t)), t, 'the toolchain is plain data');
  });
}

test('compat: python default comes from compat/python.json and says so', () => {
  const t = resolveToolchain(config(false, undefined), pins([]));
  assert.equal(t.python.minor, '3.12');
  assert.match(t.python.why, /default/);
});
