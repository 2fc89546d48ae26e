import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { Parser, type ReadEntry } from 'tar';
import { CogtsError, isCogtsError } from '../errors.js';
import { decompressLayer } from './decompress.js';
import { defaultKeep } from './keep.js';
import { type RawNode, ResolvingRootfs } from './resolve.js';
import type { KeepRule, LayerBlob, Rootfs, RootfsNodeType } from './types.js';

/**
 * One path in the merged tree. `layer` is the index of the layer that last wrote or touched it, so
 * whiteouts (which by the OCI spec hide only LOWER layers) can spare what the current layer added,
 * whatever the order of entries inside the tar.
 */
type Node = DirNode | LeafNode;
interface DirNode {
  type: 'dir';
  mode: number;
  layer: number;
  children: Map<string, Node>;
}
interface LeafNode {
  type: Exclude<RootfsNodeType, 'dir'>;
  mode: number;
  layer: number;
  size: number;
  target?: string;
  content?: Buffer;
  head?: Buffer;
}

export interface LayersOptions {
  /** Which file contents to keep (default: `defaultKeep`, what apt and detection read). */
  keep?: KeepRule;
  /** Upper bound on kept bytes over all layers, so a too-broad rule fails instead of eating memory. */
  maxKeptBytes?: number;
}

const WH = '.wh.';
const OPAQUE = '.wh..wh..opq';

function components(raw: string, layerName: string): string[] {
  const out: string[] = [];
  for (const c of raw.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..')
      throw new CogtsError(
        'E_LAYER_PATH',
        `${layerName}: tar entry "${raw}" climbs out of the root with ".."`,
      );
    out.push(c);
  }
  return out;
}

function blobOf(b: LayerBlob): { open: () => unknown; id?: string } {
  return typeof b === 'function' ? { open: b } : b;
}

class LayerTree extends ResolvingRootfs {
  readonly root: DirNode = { type: 'dir', mode: 0o755, layer: -1, children: new Map() };

  protected lnode(c: readonly string[]): RawNode | undefined {
    const n = this.find(c);
    if (!n) return undefined;
    if (n.type === 'dir') return { type: 'dir', mode: n.mode, size: 0 };
    const content = n.content;
    return {
      type: n.type,
      mode: n.mode,
      size: n.size,
      target: n.target,
      head: n.head,
      content: content ? () => content : undefined,
    };
  }

  protected children(c: readonly string[]): string[] {
    const n = this.find(c);
    return n?.type === 'dir' ? [...n.children.keys()] : [];
  }

  find(c: readonly string[]): Node | undefined {
    let n: Node = this.root;
    for (const name of c) {
      if (n.type !== 'dir') return undefined;
      const next = n.children.get(name);
      if (!next) return undefined;
      n = next;
    }
    return n;
  }

  /**
   * The directory at `c`, created (or replacing a non-directory, as overlayfs shows an upper dir over
   * a lower file) when needed; every directory on the way is marked as touched by `layer`.
   */
  dirAt(c: readonly string[], layer: number): DirNode {
    let d = this.root;
    for (const name of c) {
      let next = d.children.get(name);
      if (next?.type !== 'dir') {
        next = { type: 'dir', mode: 0o755, layer, children: new Map() };
        d.children.set(name, next);
      }
      next.layer = layer;
      d = next;
    }
    return d;
  }
}

/** Deletes everything below `d` that came from a lower layer, keeping what `layer` itself wrote. */
function removeLower(d: DirNode, layer: number): void {
  for (const [name, child] of d.children) {
    if (child.layer < layer) d.children.delete(name);
    else if (child.type === 'dir') removeLower(child, layer);
  }
}

const TYPE: Record<string, Exclude<RootfsNodeType, 'dir'> | 'dir' | 'hardlink' | undefined> = {
  File: 'file',
  OldFile: 'file',
  ContiguousFile: 'file',
  Directory: 'dir',
  SymbolicLink: 'symlink',
  Link: 'hardlink',
  CharacterDevice: 'char',
  BlockDevice: 'block',
  FIFO: 'fifo',
};

interface PendingHardlink {
  node: LeafNode;
  target: string;
  keep: true | number;
}

class Budget {
  used = 0;
  constructor(private readonly max: number) {}
  take(n: number, path: string): void {
    this.used += n;
    if (this.used > this.max) {
      throw new CogtsError(
        'E_ROOTFS_KEEP_LIMIT',
        `keeping ${path} would exceed ${this.max} bytes of kept file content`,
        {
          hint: 'narrow the KeepRule (keep heads of large files with a byte count) or raise maxKeptBytes',
        },
      );
    }
  }
}

/**
 * Streams one layer's tar through `onEntry`; `onEntry` must consume or resume every entry. tar's
 * Parser is not a Writable, so backpressure is done by hand with 'drain'.
 */
async function streamTar(blob: LayerBlob, name: string, onEntry: (e: ReadEntry) => void): Promise<void> {
  const { open } = blobOf(blob);
  let failure: unknown;
  const parser = new Parser({ strict: true, onReadEntry: (e) => onEntry(e) });
  parser.on('error', (err: unknown) => {
    failure ??= err;
  });
  let src: Readable | undefined;
  try {
    src = await (open() as Promise<Readable>);
    for await (const chunk of decompressLayer(src)) {
      if (failure) break;
      if (!parser.write(chunk)) await once(parser, 'drain');
    }
    if (!failure) {
      const done = once(parser, 'end');
      parser.end();
      await done;
    }
  } catch (err) {
    failure ??= err;
  }
  // Stop the producer (a registry response, a `tar` child) instead of leaving it blocked on a pipe.
  if (failure) src?.destroy();
  if (failure) {
    if (isCogtsError(failure)) throw failure;
    throw new CogtsError('E_LAYER_READ', `${name}: cannot read layer: ${(failure as Error).message}`, {
      hint: 'the blob must be a tar archive, plain or gzip/zstd compressed',
      cause: failure,
    });
  }
}

function collect(e: ReadEntry, limit: number, done: (buf: Buffer) => void): void {
  const parts: Buffer[] = [];
  let have = 0;
  e.on('data', (c: Buffer) => {
    if (have >= limit) return;
    const take = c.subarray(0, limit - have);
    parts.push(Buffer.from(take));
    have += take.length;
  });
  e.on('end', () => done(Buffer.concat(parts, have)));
}

async function applyLayer(
  tree: LayerTree,
  blob: LayerBlob,
  layer: number,
  keep: KeepRule,
  budget: Budget,
): Promise<void> {
  const name = blobOf(blob).id ?? `layer ${layer}`;
  const pending: PendingHardlink[] = [];
  await streamTar(blob, name, (e) => {
    const kind = TYPE[e.type];
    const c = components(e.path, name);
    const base = c[c.length - 1];
    if (kind === undefined || base === undefined) {
      if (kind === 'dir' && e.mode !== undefined) tree.root.mode = e.mode & 0o7777;
      e.resume();
      return;
    }
    const parentC = c.slice(0, -1);
    const path = `/${c.join('/')}`;
    if (base.startsWith(WH)) {
      e.resume();
      const parent = tree.dirAt(parentC, layer);
      if (base === OPAQUE) return removeLower(parent, layer);
      if (base.startsWith(`${WH}${WH}`)) return; // other aufs metadata (.wh..wh.plnk): not a path
      const victim = parent.children.get(base.slice(WH.length));
      if (!victim) return;
      if (victim.layer < layer) parent.children.delete(base.slice(WH.length));
      else if (victim.type === 'dir') removeLower(victim, layer);
      return;
    }
    const mode = (e.mode ?? (kind === 'dir' ? 0o755 : 0o644)) & 0o7777;
    if (kind === 'dir') {
      e.resume();
      tree.dirAt(c, layer).mode = mode;
      return;
    }
    const parent = tree.dirAt(parentC, layer);
    if (kind === 'hardlink') {
      e.resume();
      const targetC = components(e.linkpath ?? '', name);
      const t = tree.find(targetC);
      if (t?.type !== 'file') {
        throw new CogtsError(
          'E_LAYER_HARDLINK',
          `${name}: hardlink ${path} points at /${targetC.join('/')}, which is not a regular file before it`,
        );
      }
      const node: LeafNode = { ...t, layer };
      parent.children.set(base, node);
      const want = keep(path, { size: t.size, mode: t.mode });
      const have = t.content ? t.size : (t.head?.length ?? 0);
      const wantBytes = want === true ? t.size : want === false ? 0 : Math.min(want, t.size);
      if (wantBytes > have)
        pending.push({ node, target: `/${targetC.join('/')}`, keep: want as true | number });
      return;
    }
    const node: LeafNode = { type: kind, mode, layer, size: kind === 'file' ? (e.size ?? 0) : 0 };
    if (kind === 'symlink') node.target = e.linkpath ?? '';
    parent.children.set(base, node);
    if (kind !== 'file') return e.resume();
    const want = keep(path, { size: node.size, mode });
    if (want === false || want === 0) return e.resume();
    const limit = want === true ? node.size : Math.min(want, node.size);
    budget.take(limit, path);
    collect(e, limit, (buf) => {
      if (want === true) node.content = buf;
      else node.head = buf;
    });
  });
  if (pending.length) await fillHardlinks(blob, name, pending, budget);
}

/**
 * Rare case: a hardlink whose own path wants content its target's path did not keep. The content
 * went by already, so the layer is read a second time for just those targets.
 */
async function fillHardlinks(
  blob: LayerBlob,
  name: string,
  pending: PendingHardlink[],
  budget: Budget,
): Promise<void> {
  const byTarget = new Map<string, PendingHardlink[]>();
  for (const p of pending) byTarget.set(p.target, [...(byTarget.get(p.target) ?? []), p]);
  await streamTar(blob, name, (e) => {
    const path = `/${components(e.path, name).join('/')}`;
    const wanted = TYPE[e.type] === 'file' ? byTarget.get(path) : undefined;
    if (!wanted) return e.resume();
    byTarget.delete(path); // first occurrence is the one the links were made to
    const size = e.size ?? 0;
    const limit = Math.max(...wanted.map((w) => (w.keep === true ? size : Math.min(w.keep, size))));
    budget.take(limit, path);
    collect(e, limit, (buf) => {
      for (const w of wanted) {
        if (w.keep === true) w.node.content = buf;
        else w.node.head = buf.subarray(0, Math.min(w.keep, buf.length));
      }
    });
  });
}

/**
 * Builds the merged read-only view of an image from its layer blobs (lowest first), reading each
 * blob once as a stream: every path is indexed (type, mode, size, link target), whiteouts and opaque
 * directories hide lower layers, later layers win, and only the content `keep` selects is held.
 */
export async function rootfsFromLayers(
  layers: readonly LayerBlob[],
  opts: LayersOptions = {},
): Promise<Rootfs> {
  const tree = new LayerTree();
  const budget = new Budget(opts.maxKeptBytes ?? 512 * 1024 * 1024);
  const keep = opts.keep ?? defaultKeep;
  for (let i = 0; i < layers.length; i++) await applyLayer(tree, layers[i] as LayerBlob, i, keep, budget);
  return tree;
}
