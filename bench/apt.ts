/**
 * Resolve and lay down [libgl1, ffmpeg] on a debootstrap bookworm minbase: cogts (planApt +
 * installApt + writing every entry under a fresh directory) versus apt-get in a chroot of a copy
 * of the same base (apt-get update + install --no-install-recommends). Cold = empty caches (cogts
 * cache dir; apt lists and /var/cache/apt/archives); warm = caches from the previous run kept.
 * Usage: node dist-X/bench/apt.js [runs=3]
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dirRootfsView, installApt, planApt } from '../src/apt/index.js';
import { applyEntries } from '../test/apt/extract.js';
import { debootstrapBase } from '../test/helpers/debootstrap.js';

const runs = Number(process.argv[2] ?? 3);
const packages = ['libgl1', 'ffmpeg'];
const base = debootstrapBase({ suite: 'bookworm', variant: 'minbase' });
const view = dirRootfsView(base);

async function cogts(cacheDir: string): Promise<number> {
  const out = mkdtempSync(join(tmpdir(), 'cogts-bench-out-'));
  const t0 = performance.now();
  const res = await planApt({ base: view, packages, cacheDir });
  const { entries } = await installApt(res, view, { cacheDir });
  await applyEntries(out, entries);
  const ms = performance.now() - t0;
  rmSync(out, { recursive: true, force: true });
  return ms;
}

function aptGet(root: string): number {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' };
  const t0 = performance.now();
  execFileSync('chroot', [root, 'apt-get', 'update', '-qq'], { env, stdio: 'ignore' });
  execFileSync('chroot', [root, 'apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...packages], {
    env,
    stdio: 'ignore',
  });
  return performance.now() - t0;
}

function freshRoot(): string {
  const root = join(mkdtempSync(join(tmpdir(), 'cogts-bench-apt-')), 'r');
  execFileSync('cp', ['-a', base, root]);
  execFileSync('cp', ['/etc/resolv.conf', join(root, 'etc/resolv.conf')]);
  return root;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results: Record<string, number[]> = {
  'cogts cold': [],
  'cogts warm': [],
  'apt-get cold': [],
  'apt-get warm': [],
};
for (let i = 0; i < runs; i++) {
  const cache = mkdtempSync(join(tmpdir(), 'cogts-bench-cache-'));
  results['cogts cold']!.push(await cogts(cache));
  results['cogts warm']!.push(await cogts(cache));
  rmSync(cache, { recursive: true, force: true });
  // apt warm: same lists and downloaded .debs, a base copy without the packages installed.
  const cold = freshRoot();
  results['apt-get cold']!.push(aptGet(cold));
  const warm = freshRoot();
  execFileSync('sh', [
    '-c',
    `cp -a ${cold}/var/lib/apt/lists/. ${warm}/var/lib/apt/lists/ && cp -a ${cold}/var/cache/apt/archives/. ${warm}/var/cache/apt/archives/`,
  ]);
  results['apt-get warm']!.push(aptGet(warm));
  rmSync(join(cold, '..'), { recursive: true, force: true });
  rmSync(join(warm, '..'), { recursive: true, force: true });
  console.error(
    `run ${i + 1}/${runs}: ${Object.entries(results)
      .map(([k, v]) => `${k} ${Math.round(v[i]!)}`)
      .join(', ')}`,
  );
}
console.log(`date: ${new Date().toISOString()}  runs: ${runs}`);
console.log('| case | median ms | all runs (ms) |\n|---|---|---|');
for (const [k, v] of Object.entries(results))
  console.log(`| ${k} | ${Math.round(median(v))} | ${v.map((x) => Math.round(x)).join(', ')} |`);
