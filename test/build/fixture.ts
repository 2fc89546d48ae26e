/**
 * Shared set-up for the build-cache tests: a real registry holding a debootstrapped bookworm base
 * (with python3, so the Python layer is the base's), a throwaway model project, and fresh cache
 * folders that share only the Node download (so no test pays for fetching Node twice).
 */
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { imageLayoutFromRootfs, pushImage } from '../helpers/base-image.js';
import { testCacheDir } from '../helpers/cache.js';
import { debootstrapBase } from '../helpers/debootstrap.js';
import { cogtsBin, fixturesDir } from '../helpers/paths.js';
import { startRegistry, type TestRegistry } from '../helpers/registry.js';
import { runCollect } from '../helpers/spawn.js';

export interface BuildFixture {
  reg: TestRegistry;
  base: string;
  tmp: string;
  stop(): Promise<void>;
}

export async function buildFixture(): Promise<BuildFixture> {
  const reg = await startRegistry({});
  const rootfs = debootstrapBase({ suite: 'bookworm', variant: 'minbase', include: ['python3'] });
  const layout = imageLayoutFromRootfs(rootfs, [
    'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
  ]);
  const base = `${reg.host}/cache/base:bookworm`;
  pushImage(layout, base);
  const tmp = mkdtempSync(join(tmpdir(), 'cogts-build-cache-'));
  return {
    reg,
    base,
    tmp,
    stop: async () => {
      await reg.stop();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

let n = 0;

/** A copy of the typed-inputs model plus a data file, in its own folder. */
export function newProject(f: BuildFixture): string {
  const dir = join(f.tmp, `project-${++n}`);
  cpSync(join(fixturesDir, 'models', 'typed-inputs'), dir, { recursive: true });
  writeFileSync(join(dir, 'data.txt'), 'some model data\n');
  return dir;
}

/** An empty cache folder whose Node download folder is the shared one. */
export function newCacheDir(f: BuildFixture): string {
  const dir = join(f.tmp, `cache-${++n}`);
  mkdirSync(dir, { recursive: true });
  const shared = join(testCacheDir('e2e-build'), 'node');
  mkdirSync(shared, { recursive: true });
  symlinkSync(shared, join(dir, 'node'));
  return dir;
}

export interface BuildRun {
  status: number | null;
  stdout: string;
  stderr: string;
  // biome-ignore lint/suspicious/noExplicitAny: the summary is JSON checked field by field in tests
  json: any;
}

/** `cogts build --json --push REF` in `project` (async, so several can run at once). */
export async function cogtsBuild(
  f: BuildFixture,
  project: string,
  ref: string,
  cacheDir: string,
  extra: string[] = [],
): Promise<BuildRun> {
  const r = await runCollect(
    process.execPath,
    [cogtsBin, 'build', '--json', '--base-image', f.base, '--push', ref, '--cache-dir', cacheDir, ...extra],
    { cwd: project, env: { ...process.env, SOURCE_DATE_EPOCH: '0' } },
  );
  let json: unknown;
  try {
    json = JSON.parse(r.stdout);
  } catch {
    json = undefined;
  }
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, json };
}
