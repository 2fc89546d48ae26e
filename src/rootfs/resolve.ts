import { CogtsError } from '../errors.js';
import type { Rootfs, RootfsStat } from './types.js';

/** Raw metadata of one canonical path (no symlink followed), as a backing store reports it. */
export interface RawNode extends RootfsStat {
  /** Whole content available (dir views always; layer views when the KeepRule said `true`). */
  content?: () => Buffer;
  /** Leading bytes available when only a head was kept. */
  head?: Buffer;
}

/** Linux's limit on symlinks followed in one lookup (ELOOP); a loop in an image must not hang us. */
const MAX_HOPS = 40;

function split(path: string): string[] {
  return path.split('/').filter((c) => c !== '' && c !== '.');
}

/**
 * Path resolution shared by the layer and directory views: everything is expressed over `lnode`
 * (metadata of a canonical path given as components) and `children`, so both stores resolve links
 * identically, confined to the rootfs root.
 */
export abstract class ResolvingRootfs implements Rootfs {
  protected abstract lnode(components: readonly string[]): RawNode | undefined;
  protected abstract children(components: readonly string[]): string[];

  /** Canonical components of `path`, or undefined when a component is missing or not a directory. */
  protected resolve(path: string, followLast: boolean): string[] | undefined {
    let todo = split(path);
    let stack: string[] = [];
    let hops = 0;
    while (todo.length > 0) {
      const c = todo.shift() as string;
      if (c === '..') {
        stack.pop();
        continue;
      }
      const candidate = [...stack, c];
      const n = this.lnode(candidate);
      if (!n) return undefined;
      const last = todo.length === 0;
      if (n.type === 'symlink' && (!last || followLast)) {
        if (++hops > MAX_HOPS) return undefined;
        const target = n.target ?? '';
        if (target.startsWith('/')) stack = [];
        todo = [...split(target), ...todo];
        continue;
      }
      if (!last && n.type !== 'dir') return undefined;
      stack = candidate;
    }
    return stack;
  }

  private node(path: string, followLast: boolean): RawNode | undefined {
    const c = this.resolve(path, followLast);
    if (!c) return undefined;
    return c.length === 0 ? (this.lnode([]) ?? { type: 'dir', mode: 0o755, size: 0 }) : this.lnode(c);
  }

  readFile(path: string): Buffer | undefined {
    const n = this.node(path, true);
    if (n?.type !== 'file') return undefined;
    if (n.content) return n.content();
    throw new CogtsError(
      'E_ROOTFS_NOT_CAPTURED',
      `${path}: the content of this file was not kept while reading the image layers`,
      {
        hint: 'add the path to the KeepRule given to rootfsFromLayers (content is only captured during the single pass over each layer)',
      },
    );
  }

  readHead(path: string): Buffer | undefined {
    const n = this.node(path, true);
    if (n?.type !== 'file') return undefined;
    return n.content ? n.content() : n.head;
  }

  stat(path: string): RootfsStat | undefined {
    const n = this.node(path, true);
    return n ? { type: n.type, mode: n.mode, size: n.size } : undefined;
  }

  lstat(path: string): RootfsStat | undefined {
    const n = this.node(path, false);
    if (!n) return undefined;
    return n.type === 'symlink'
      ? { type: n.type, mode: n.mode, size: 0, target: n.target as string }
      : { type: n.type, mode: n.mode, size: n.size };
  }

  list(dir: string): string[] {
    const c = this.resolve(dir, true);
    if (!c) return [];
    const n = c.length === 0 ? undefined : this.lnode(c);
    if (c.length > 0 && n?.type !== 'dir') return [];
    return this.children(c).sort();
  }

  exists(path: string): boolean {
    return this.resolve(path, true) !== undefined;
  }

  readlink(path: string): string | undefined {
    const n = this.node(path, false);
    return n?.type === 'symlink' ? n.target : undefined;
  }

  isDir(path: string): boolean {
    return this.stat(path)?.type === 'dir';
  }

  realpath(path: string): string | undefined {
    const c = this.resolve(path, true);
    return c ? `/${c.join('/')}` : undefined;
  }
}
