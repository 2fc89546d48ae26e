import picomatch from 'picomatch';
import type { KeepRule } from './types.js';

/** What the apt resolver/installer reads from a base image (sources, keys, package database). */
export const APT_KEEP: readonly string[] = [
  '/etc/apt/**',
  '/usr/share/keyrings/**',
  '/var/lib/dpkg/status',
  '/var/lib/dpkg/arch',
  '/etc/dpkg/dpkg.cfg.d/**',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d/**',
  // The base's loader cache: regenerating it for new libraries starts from it (no base ELF reads).
  '/etc/ld.so.cache',
];

/** What image detection reads: OS identity, libc version, Python layout. All small files. */
export const DETECT_KEEP: readonly string[] = [
  '/etc/os-release',
  '/usr/lib/os-release',
  '/etc/debian_version',
  '/etc/lsb-release',
  '/etc/alpine-release',
  '/lib/apk/db/installed',
  // glibc ≥ 2.34 ships only libc.so.6; its version is the "GNU C Library … version X.Y" string (~2 MB file).
  '**/libc.so.6',
  // Python layout: Debian's patched site.py says dist-packages; patchlevel.h gives the full version.
  '**/lib/python3.*/site.py',
  '**/lib64/python3.*/site.py',
  '**/include/python3.*/patchlevel.h',
];

/** Shared libraries whose ELF header (machine, class) is enough: keep only the first 4 KiB. */
export const ELF_HEAD_KEEP: readonly string[] = ['**/lib*.so*'];
export const ELF_HEAD_BYTES = 4096;

/**
 * A KeepRule from globs (picomatch syntax, matched against absolute paths, dotfiles included):
 * `whole` files are kept entirely, `head` files only their first `headBytes`.
 */
export function keepGlobs(spec: {
  whole?: readonly string[];
  head?: readonly string[];
  headBytes?: number;
}): KeepRule {
  const whole = spec.whole?.length ? picomatch([...spec.whole], { dot: true }) : () => false;
  const head = spec.head?.length ? picomatch([...spec.head], { dot: true }) : () => false;
  const bytes = spec.headBytes ?? ELF_HEAD_BYTES;
  return (path) => (whole(path) ? true : head(path) ? bytes : false);
}

/** Keeps what src/apt and src/rootfs/detect need; the default of `rootfsFromLayers`. */
export const defaultKeep: KeepRule = keepGlobs({ whole: [...APT_KEEP, ...DETECT_KEEP], head: ELF_HEAD_KEEP });
