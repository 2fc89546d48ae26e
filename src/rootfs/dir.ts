import { lstatSync, readdirSync, readFileSync, readlinkSync, type Stats, statSync } from 'node:fs';
import { join } from 'node:path';
import { CogtsError } from '../errors.js';
import { type RawNode, ResolvingRootfs } from './resolve.js';
import type { Rootfs, RootfsNodeType } from './types.js';

function typeOf(st: Stats): RootfsNodeType | undefined {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  if (st.isFIFO()) return 'fifo';
  return undefined; // sockets: not representable in a layer
}

class DirRootfs extends ResolvingRootfs {
  constructor(private readonly root: string) {
    super();
  }

  // Only ever called with canonical components (no "..", no symlink in between), so the host path
  // stays under `root`: the host kernel never gets to follow a link of the image.
  private host(components: readonly string[]): string {
    return join(this.root, ...components);
  }

  protected lnode(components: readonly string[]): RawNode | undefined {
    const p = this.host(components);
    let st: Stats;
    try {
      st = lstatSync(p);
    } catch {
      return undefined;
    }
    const type = typeOf(st);
    if (!type) return undefined;
    const base = { type, mode: st.mode & 0o7777, size: type === 'file' ? st.size : 0 };
    if (type === 'symlink') return { ...base, target: readlinkSync(p) };
    if (type === 'file') return { ...base, content: () => readFileSync(p) };
    return base;
  }

  protected children(components: readonly string[]): string[] {
    try {
      return readdirSync(this.host(components));
    } catch {
      return [];
    }
  }
}

/**
 * A Rootfs over an unpacked directory (debootstrap tree, `umoci unpack` rootfs, the host's `/`).
 * Content is read lazily from disk, so every file is readable; symlinks resolve inside `dir`.
 */
export function rootfsFromDir(dir: string): Rootfs {
  let ok = false;
  try {
    ok = statSync(dir).isDirectory();
  } catch {
    ok = false;
  }
  if (!ok)
    throw new CogtsError('E_ROOTFS_DIR', `${dir}: not a directory, cannot use it as a root filesystem`);
  return new DirRootfs(dir);
}
