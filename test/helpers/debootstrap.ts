import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dirRootfsView } from '../../src/apt/dirview.js';
import { readSources } from '../../src/apt/sources.js';

export const testCacheRoot = process.env.COGTS_TEST_CACHE ?? '/var/cache/cogts-test';

/**
 * The Debian archive this machine's own apt uses (its sources.list(.d)); tests never hard-code a
 * host. Returns the first `deb` URI serving the main archive (not -security/-updates suites).
 */
export function machineDebianMirror(): string {
  const sources = readSources(dirRootfsView('/'));
  const main = sources.find(
    (s) =>
      !/-(security|updates|backports)$/.test(s.suite) &&
      s.components.includes('main') &&
      !s.uri.includes('security'),
  );
  if (!main) throw new Error("no Debian 'main' source in this machine's /etc/apt/sources.list(.d)");
  return main.uri;
}

export interface DebootstrapOptions {
  suite: string;
  variant?: 'minbase' | 'buildd' | '-';
  include?: string[];
}

/**
 * A debootstrapped rootfs directory, built once and cached under /var/cache/cogts-test/debootstrap
 * keyed by the arguments (and shared by every test file and run on this machine). Callers must
 * not modify it: copy it (`cp -a`) first. Concurrent callers wait on a lock directory.
 */
export function debootstrapBase(opts: DebootstrapOptions): string {
  const variant = opts.variant ?? 'minbase';
  const include = [...(opts.include ?? [])].sort();
  const mirror = machineDebianMirror();
  const key = createHash('sha256')
    .update(JSON.stringify([opts.suite, variant, include, mirror]))
    .digest('hex')
    .slice(0, 16);
  const base = join(testCacheRoot, 'debootstrap', `${opts.suite}-${variant}-${key}`);
  const rootfs = join(base, 'rootfs');
  const done = join(base, 'complete');
  if (existsSync(done)) return rootfs;
  mkdirSync(join(testCacheRoot, 'debootstrap'), { recursive: true });
  const lock = `${base}.lock`;
  for (let i = 0; ; i++) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      if (existsSync(done)) return rootfs;
      // A lock left by a killed run (debootstrap takes well under 15 minutes) is taken over.
      try {
        if (Date.now() - statSync(lock).mtimeMs > 15 * 60_000) rmSync(lock, { recursive: true, force: true });
      } catch {}
      if (i > 1200) throw new Error(`timed out waiting for ${lock}`);
      execFileSync('sleep', ['1']);
    }
  }
  try {
    if (existsSync(done)) return rootfs;
    const tmp = `${base}.tmp`;
    rmSync(tmp, { recursive: true, force: true });
    mkdirSync(tmp, { recursive: true });
    const debCache = join(testCacheRoot, 'debootstrap-debs');
    mkdirSync(debCache, { recursive: true });
    const args = [`--variant=${variant}`, `--cache-dir=${debCache}`];
    if (include.length) args.push(`--include=${include.join(',')}`);
    execFileSync('debootstrap', [...args, opts.suite, join(tmp, 'rootfs'), mirror], {
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 900_000,
    });
    writeFileSync(join(tmp, 'args.json'), JSON.stringify({ ...opts, variant, mirror }));
    rmSync(base, { recursive: true, force: true });
    renameSync(tmp, base);
    writeFileSync(done, new Date().toISOString());
    return rootfs;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** The mirror recorded for a cached rootfs (for messages). */
export function debootstrapArgs(rootfs: string): unknown {
  return JSON.parse(readFileSync(join(rootfs, '..', 'args.json'), 'utf8'));
}
