#!/usr/bin/env node
// Regenerates the compat/*.json tables cogts reads, from
//   compat/upstream/cog/*.json  Cog's own tables (facts; refresh with --from DIR)
//   compat/extra/*.json         what cogts maintainers add, each with its source
// Usage: node compat/generate.mjs [--from DIR-with-Cog's-*_compatibility.json]
// Deterministic: same inputs, same bytes. See compat/README.md.
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const upstream = join(here, 'upstream', 'cog');
const from = process.argv.indexOf('--from');
if (from > 0) {
  for (const f of ['cuda_compatibility.json', 'torch_compatibility.json', 'tf_compatibility.json']) {
    copyFileSync(join(process.argv[from + 1], f), join(upstream, f));
  }
}
const read = (...p) => JSON.parse(readFileSync(join(here, ...p), 'utf8'));
const write = (name, value) => writeFileSync(join(here, name), `${JSON.stringify(value, null, 2)}\n`);

const versionKey = (v) => v.split(/[.+]/).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
function compareVersions(a, b) {
  const x = versionKey(a);
  const y = versionKey(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if (x[i] === y[i]) continue;
    if (x[i] === undefined) return -1;
    if (y[i] === undefined) return 1;
    return typeof x[i] === 'number' && typeof y[i] === 'number' ? x[i] - y[i] : String(x[i]) < String(y[i]) ? -1 : 1;
  }
  return 0;
}
const minorOf = (v) => v.split('.').slice(0, 2).join('.');
const sortPythons = (list) => [...new Set(list)].sort(compareVersions);

// --- Python -------------------------------------------------------------------------------
write('python.json', read('extra', 'python.json'));

// --- CPU base -------------------------------------------------------------------------------
write('cpu-base.json', read('extra', 'cpu-base.json'));

// --- CUDA images ----------------------------------------------------------------------------
const cudaExtra = read('extra', 'cuda.json');
const images = [];
for (const row of read('upstream', 'cog', 'cuda_compatibility.json')) {
  const m = /^(\d+\.\d+\.\d+)-(cudnn\d*)-devel-ubuntu(\d+\.\d+)$/.exec(row.Tag);
  if (!m) throw new Error(`unexpected tag in Cog's CUDA table: ${row.Tag}`);
  const [, cuda, cudnnLabel, ubuntu] = m;
  // An unversioned "cudnn" tag carries cuDNN 9 (NVIDIA dropped the number with cuDNN 9, CUDA 12.4+).
  const cudnn = cudnnLabel === 'cudnn' ? '9' : cudnnLabel.slice('cudnn'.length);
  for (const variant of ['base', 'runtime', 'devel']) {
    images.push({ cuda, cudnn: null, variant, ubuntu, tag: `${cuda}-${variant}-ubuntu${ubuntu}`, source: 'derived' });
  }
  for (const variant of ['runtime', 'devel']) {
    images.push({
      cuda,
      cudnn,
      variant,
      ubuntu,
      tag: `${cuda}-${cudnnLabel}-${variant}-ubuntu${ubuntu}`,
      source: variant === 'devel' ? 'cog' : 'derived',
    });
  }
}
images.sort((a, b) => compareVersions(a.cuda, b.cuda) || a.tag.localeCompare(b.tag));
write('cuda-images.json', {
  source: `Docker Hub nvidia/cuda tags. cudnn-devel rows: Cog's cuda_compatibility.json (compat/upstream/cog). Other rows: ${cudaExtra.source}`,
  repository: 'docker.io/nvidia/cuda',
  ubuntuPreference: cudaExtra.ubuntuPreference,
  ubuntuPreferenceWhy: cudaExtra.ubuntuPreferenceWhy,
  defaultCuda: cudaExtra.defaultCuda,
  defaultCudaWhy: cudaExtra.defaultCudaWhy,
  images,
});

// --- torch ----------------------------------------------------------------------------------
const torchExtra = read('extra', 'torch.json');
const releases = new Map();
const stripLocal = (v) => v.split('+')[0];
for (const row of read('upstream', 'cog', 'torch_compatibility.json')) {
  const version = stripLocal(row.Torch);
  let rel = releases.get(version);
  if (!rel) {
    rel = {
      version,
      torchvision: stripLocal(row.Torchvision),
      torchaudio: stripLocal(row.Torchaudio),
      pythons: [],
      builds: [],
      source: "Cog's torch_compatibility.json; pythons merged with compat/extra/torch.json",
    };
    releases.set(version, rel);
  }
  rel.pythons.push(...row.Pythons);
  let variant;
  if (row.CUDA === null) variant = 'cpu';
  else variant = `cu${row.CUDA.replace('.', '')}`;
  // Rows without an index are the plain PyPI wheels (see pypiDefaultBuildsNote in extra/torch.json).
  const indexUrl = `https://download.pytorch.org/whl/${variant}`;
  if (!rel.builds.some((b) => b.variant === variant)) rel.builds.push({ variant, cuda: row.CUDA, indexUrl });
}
for (const rel of releases.values()) {
  const extra = torchExtra.pythons[minorOf(rel.version)];
  if (!extra) throw new Error(`compat/extra/torch.json has no Python list for torch ${minorOf(rel.version)}`);
  rel.pythons = sortPythons([...rel.pythons, ...extra]);
  rel.builds.sort((a, b) => (a.cuda === null ? -1 : b.cuda === null ? 1 : compareVersions(a.cuda, b.cuda)));
}
write('torch.json', {
  source: `download.pytorch.org wheel indexes. Releases, builds and vision/audio pairing: Cog's torch_compatibility.json (compat/upstream/cog). ${torchExtra.source} ${torchExtra.pypiDefaultBuildsNote}`,
  cpuIndexUrl: 'https://download.pytorch.org/whl/cpu',
  indexUrlTemplate: 'https://download.pytorch.org/whl/{variant}',
  nvccPackages: torchExtra.nvccPackages,
  releases: [...releases.values()].sort((a, b) => compareVersions(a.version, b.version)),
});

// --- tensorflow -----------------------------------------------------------------------------
write('tensorflow.json', {
  source: "Cog's tf_compatibility.json (compat/upstream/cog), itself from tensorflow.org/install/source#gpu",
  releases: read('upstream', 'cog', 'tf_compatibility.json')
    .map((r) => ({ version: r.TF, cuda: r.CUDA, cudnn: r.CuDNN, pythons: sortPythons(r.Pythons), source: 'cog' }))
    .sort((a, b) => compareVersions(a.version, b.version)),
});

console.log(`compat: ${images.length} CUDA images, ${releases.size} torch releases written`);
