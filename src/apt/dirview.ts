import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join, posix } from 'node:path';
import type { RootfsView } from './types.js';

/**
 * A RootfsView over an unpacked directory (a debootstrap tree in tests, an extracted image). Symlinks
 * are resolved against the rootfs root, never the host's: `/lib64/ld-linux…` must not read the host.
 */
export function dirRootfsView(root: string): RootfsView {
  /** Host path of `p` with every symlink component resolved inside the rootfs; undefined if missing. */
  const resolve = (p: string, depth = 0): string | undefined => {
    if (depth > 40) return undefined;
    const parts = posix.normalize(p).split('/').filter(Boolean);
    let cur = '/';
    for (let i = 0; i < parts.length; i++) {
      const next = posix.join(cur, parts[i]!);
      let st: ReturnType<typeof lstatSync>;
      try {
        st = lstatSync(join(root, next));
      } catch {
        return undefined;
      }
      if (st.isSymbolicLink()) {
        const t = readlinkSync(join(root, next));
        const target = t.startsWith('/') ? t : posix.join(cur, t);
        const rest = parts.slice(i + 1).join('/');
        return resolve(rest ? `${target}/${rest}` : target, depth + 1);
      }
      cur = next;
    }
    return cur;
  };
  return {
    readFile(path) {
      const r = resolve(path);
      if (r === undefined) return undefined;
      try {
        return lstatSync(join(root, r)).isFile() ? readFileSync(join(root, r)) : undefined;
      } catch {
        return undefined;
      }
    },
    list(dir) {
      const r = resolve(dir);
      if (r === undefined) return [];
      try {
        return readdirSync(join(root, r)).sort();
      } catch {
        return [];
      }
    },
    readlink(path) {
      const parent = resolve(posix.dirname(path));
      if (parent === undefined) return undefined;
      try {
        return readlinkSync(join(root, parent, posix.basename(path)));
      } catch {
        return undefined;
      }
    },
    isDir(path) {
      const r = resolve(path);
      try {
        return r !== undefined && lstatSync(join(root, r)).isDirectory();
      } catch {
        return false;
      }
    },
  };
}
