import { posix } from 'node:path';
import type { RootfsView } from './types.js';

/**
 * Maps package paths onto the base's real directories. A merged-/usr base has /bin → usr/bin,
 * /lib → usr/lib, …; a layer that wrote /bin/ls under a *directory* /bin would replace the base's
 * symlink and hide all of /usr/bin. So every parent component that is a symlink to a directory in
 * the base is resolved (any such link: /var/run → /run too), and the entry lands under the target.
 */
export interface PathMapper {
  /** The path where a package's entry must be written. */
  map(path: string): string;
  /** True when the base has a symlink-to-directory exactly at `path` (a dir entry there must be dropped). */
  isDirLink(path: string): boolean;
}

export function makePathMapper(base: RootfsView): PathMapper {
  const dirCache = new Map<string, string>();
  const isDirLink = (p: string) => base.readlink(p) !== undefined && base.isDir(p);
  const realDir = (dir: string, depth = 0): string => {
    if (dir === '/' || depth > 20) return dir;
    const hit = dirCache.get(dir);
    if (hit !== undefined) return hit;
    const parent = realDir(posix.dirname(dir), depth + 1);
    let here = posix.join(parent, posix.basename(dir));
    const link = base.readlink(here);
    if (link !== undefined && base.isDir(here)) here = realDir(posix.resolve(parent, link), depth + 1);
    dirCache.set(dir, here);
    return here;
  };
  return {
    map: (p) => posix.join(realDir(posix.dirname(p)), posix.basename(p)),
    isDirLink: (p) => isDirLink(posix.join(realDir(posix.dirname(p)), posix.basename(p))),
  };
}

const TRIPLETS: Record<string, string> = {
  amd64: 'x86_64-linux-gnu',
  arm64: 'aarch64-linux-gnu',
  i386: 'i386-linux-gnu',
  armhf: 'arm-linux-gnueabihf',
  ppc64el: 'powerpc64le-linux-gnu',
  s390x: 's390x-linux-gnu',
  riscv64: 'riscv64-linux-gnu',
};

/** Debian multiarch triplet of a dpkg architecture (dpkg-architecture -qDEB_HOST_MULTIARCH). */
export function multiarchTriplet(arch: string): string {
  return TRIPLETS[arch] ?? `${arch}-linux-gnu`;
}
