import { createHash } from 'node:crypto';
import { readFile, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { atomicWrite } from '../atomic-write.js';
import { isCogtsError } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import { type RawNode, ResolvingRootfs } from '../rootfs/resolve.js';
import type { Rootfs, RootfsNodeType } from '../rootfs/types.js';
import { compiledModulesPrint } from './keys.js';

/** [path, type, mode, size, target, content (base64), head (base64)]; absent fields are null in JSON. */
type SnapNode = [
  string,
  RootfsNodeType,
  number,
  number,
  (string | null)?,
  (string | null)?,
  (string | null)?,
];

interface Snapshot {
  format: 1;
  nodes: SnapNode[];
}

/**
 * What the executor learns from a base image by streaming its layers (the merged file tree, and the
 * contents the KeepRule kept: dpkg status, apt sources, libc banner, Python layout) saved per base
 * manifest digest. A warm build reads this one file instead of downloading and gunzipping the base.
 * The key includes the compiled rootfs reader and keep rules: a cogts that keeps more re-reads.
 */
export function snapshotKey(baseDigest: Digest): string {
  const reader = compiledModulesPrint(['../rootfs/keep.js', '../rootfs/layers.js', '../rootfs/resolve.js']);
  return createHash('sha256').update(`rootfs-snapshot-v1\0${baseDigest}\0${reader}`).digest('hex');
}

function capture(fs: Rootfs): Snapshot {
  const nodes: SnapNode[] = [];
  const walk = (dir: string) => {
    for (const name of fs.list(dir)) {
      const path = dir === '/' ? `/${name}` : `${dir}/${name}`;
      const st = fs.lstat(path);
      if (!st) continue;
      if (st.type === 'symlink') {
        nodes.push([path, st.type, st.mode, 0, st.target]);
      } else if (st.type === 'file') {
        let content: Buffer | undefined;
        let head: Buffer | undefined;
        try {
          content = fs.readFile(path);
        } catch (e) {
          if (!isCogtsError(e) || e.code !== 'E_ROOTFS_NOT_CAPTURED') throw e;
          head = fs.readHead(path);
        }
        nodes.push([
          path,
          st.type,
          st.mode,
          st.size,
          undefined,
          content?.toString('base64'),
          head?.toString('base64'),
        ]);
      } else {
        nodes.push([path, st.type, st.mode, st.size]);
        if (st.type === 'dir') walk(path);
      }
    }
  };
  walk('/');
  return { format: 1, nodes };
}

class SnapshotRootfs extends ResolvingRootfs {
  private readonly byPath = new Map<string, RawNode>();
  private readonly kids = new Map<string, string[]>([['/', []]]);

  constructor(snap: Snapshot) {
    super();
    for (const [path, type, mode, size, target, content, head] of snap.nodes) {
      const buf = content != null ? Buffer.from(content, 'base64') : undefined;
      this.byPath.set(path, {
        type,
        mode,
        size,
        ...(target != null ? { target } : {}),
        ...(buf ? { content: () => buf } : {}),
        ...(head != null ? { head: Buffer.from(head, 'base64') } : {}),
      });
      const cut = path.lastIndexOf('/');
      const parent = cut === 0 ? '/' : path.slice(0, cut);
      this.kids.get(parent)?.push(path.slice(cut + 1));
      if (type === 'dir') this.kids.set(path, []);
    }
  }

  protected lnode(c: readonly string[]): RawNode | undefined {
    return c.length === 0 ? { type: 'dir', mode: 0o755, size: 0 } : this.byPath.get(`/${c.join('/')}`);
  }

  protected children(c: readonly string[]): string[] {
    return [...(this.kids.get(c.length === 0 ? '/' : `/${c.join('/')}`) ?? [])];
  }
}

/** The saved view of `baseDigest`, or undefined (never an error: a miss just means reading the layers). */
export async function loadRootfsSnapshot(cacheDir: string, baseDigest: Digest): Promise<Rootfs | undefined> {
  const file = join(cacheDir, 'rootfs', `${snapshotKey(baseDigest)}.json`);
  try {
    const snap = JSON.parse(await readFile(file, 'utf8')) as Snapshot;
    if (snap.format !== 1 || !Array.isArray(snap.nodes)) return undefined;
    const now = new Date();
    await utimes(file, now, now).catch(() => {});
    return new SnapshotRootfs(snap);
  } catch {
    return undefined;
  }
}

export async function saveRootfsSnapshot(cacheDir: string, baseDigest: Digest, fs: Rootfs): Promise<void> {
  await atomicWrite(join(cacheDir, 'rootfs', `${snapshotKey(baseDigest)}.json`), JSON.stringify(capture(fs)));
}
