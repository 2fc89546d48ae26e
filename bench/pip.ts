/**
 * Resolve + install of a 30-package pure-Python tree from a loopback index: cogts (resolvePython +
 * installWheels, files written to disk) vs `pip install --target`, cold and warm cache.
 *
 *   npx tsc -p tsconfig.json --outDir dist-d && node dist-d/bench/pip.js [runs=5]
 *
 * Prints medians and one markdown table row per case; also how many index/file requests a warm
 * cogts run made (it should only revalidate index pages).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installWheels, resolvePython } from '../src/pip/index.js';
import { buildFixtureWheels, startPyIndex } from '../test/helpers/pyindex.js';
import { materialize } from '../test/pip/helpers.js';

const runs = Number(process.argv[2] ?? 5);
const target = { pythonVersion: '3.11', platform: 'linux/amd64', glibc: '2.35' };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

function pip(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn('python3', ['-m', 'pip', ...args], {
      env: { ...process.env, PIP_CONFIG_FILE: '/dev/null' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let err = '';
    c.stderr.on('data', (d) => (err += d));
    c.on('close', (code) => (code === 0 ? resolve() : reject(new Error(err))));
  });
}

async function main() {
  const wheels = await mkdtemp(join(tmpdir(), 'cogts-bench-wheels-'));
  buildFixtureWheels(wheels, ['--tree', '30']);
  const idx = await startPyIndex({ dir: wheels, flavour: 'json', pep658: true });
  const work = await mkdtemp(join(tmpdir(), 'cogts-bench-'));
  const times: Record<string, number[]> = {
    'cogts cold': [],
    'cogts warm': [],
    'pip cold': [],
    'pip warm': [],
  };
  let warmRequests = '';
  const cogts = async (cache: string) => {
    const out = await mkdtemp(join(work, 'out-'));
    const t0 = performance.now();
    const r = await resolvePython({
      requirements: { lines: ['tree-00'], source: 'bench', baseDir: work },
      indexes: { indexUrl: idx.url },
      target,
      cacheDir: cache,
      env: {},
    });
    await materialize(
      await installWheels(r, { sitePackages: '/site', interpreter: '/usr/bin/python3', cacheDir: cache }),
      out,
    );
    const ms = performance.now() - t0;
    if (r.packages.length !== 30) throw new Error(`expected 30 packages, got ${r.packages.length}`);
    await rm(out, { recursive: true });
    return ms;
  };
  const pipRun = async (cache: string) => {
    const out = await mkdtemp(join(work, 'pip-'));
    const t0 = performance.now();
    await pip([
      'install',
      '--isolated',
      '--disable-pip-version-check',
      '--no-compile',
      '--cache-dir',
      cache,
      '--target',
      out,
      '--platform',
      'manylinux2014_x86_64',
      '--python-version',
      '3.11',
      '--only-binary=:all:',
      '--index-url',
      idx.url,
      'tree-00',
    ]);
    const ms = performance.now() - t0;
    await rm(out, { recursive: true });
    return ms;
  };
  // One discarded round: the test index computes hashes and PEP 658 files lazily on first request.
  await cogts(await mkdtemp(join(work, 'cache-')));
  await pipRun(await mkdtemp(join(work, 'pipcache-')));
  for (let i = 0; i < runs; i++) {
    const c = await mkdtemp(join(work, 'cache-'));
    times['cogts cold']?.push(await cogts(c));
    const before = idx.requests.length;
    times['cogts warm']?.push(await cogts(c));
    const reqs = idx.requests.slice(before);
    warmRequests = `${reqs.length} requests (${reqs.filter((q) => q.status === 304).length} × 304 index revalidations, ${reqs.filter((q) => q.url.startsWith('/files/')).length} file fetches)`;
    const p = await mkdtemp(join(work, 'pipcache-'));
    times['pip cold']?.push(await pipRun(p));
    times['pip warm']?.push(await pipRun(p));
  }
  await idx.close();
  await rm(work, { recursive: true, force: true });
  await rm(wheels, { recursive: true, force: true });
  console.log(`date: ${new Date().toISOString()}  runs: ${runs}  node ${process.version}`);
  console.log(`cogts warm run: ${warmRequests}`);
  console.log('| case | median ms | all runs (ms) |\n|---|---|---|');
  for (const [k, v] of Object.entries(times))
    console.log(`| ${k} | ${median(v).toFixed(0)} | ${v.map((x) => x.toFixed(0)).join(', ')} |`);
}

await main();
