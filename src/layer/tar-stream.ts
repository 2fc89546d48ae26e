import { Readable } from 'node:stream';
import { CogtsError } from '../errors.js';
import type { FileEntry, LayerEntry } from './entry.js';
import { END_OF_ARCHIVE, encodeHeader, padding } from './tar-header.js';

export interface TarOptions {
  /** Seconds since the epoch for every entry: SOURCE_DATE_EPOCH, else 0. */
  mtime?: number;
}

/** SOURCE_DATE_EPOCH when set (reproducible-builds.org convention), else 0. */
export function sourceDateEpoch(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.SOURCE_DATE_EPOCH;
  if (v === undefined || v === '') return 0;
  if (!/^\d+$/.test(v)) {
    throw new CogtsError('E_SOURCE_DATE_EPOCH', `SOURCE_DATE_EPOCH="${v}" is not a whole number of seconds`);
  }
  return Number(v);
}

/** A normalised entry: the tar writer's own view, after defaults, parents and hardlink ordering. */
type Planned =
  | { kind: 'file'; name: string; mode: number; size: number; path: string; open: FileEntry['open'] }
  | { kind: 'dir'; name: string; mode: number }
  | { kind: 'symlink'; name: string; mode: number; target: string }
  | { kind: 'hardlink'; name: string; mode: number; target: string };

function checkPath(p: string, what: string): void {
  if (
    !p.startsWith('/') ||
    p.includes('//') ||
    p.includes('\0') ||
    (p.length > 1 && p.endsWith('/')) ||
    p.split('/').some((c) => c === '.' || c === '..')
  ) {
    throw new CogtsError(
      'E_LAYER_PATH',
      `layer ${what} "${p}" is not a normalised absolute path (no "." "..", "//" or trailing "/")`,
    );
  }
}

const parentOf = (p: string) => p.slice(0, p.lastIndexOf('/')) || '/';
const archiveName = (p: string) => p.slice(1);

// UTF-16 code-unit order differs from UTF-8 byte order for astral characters; sort on the encoded
// bytes so every platform agrees. A parent is a prefix of its children, so it sorts first.
function sortByUtf8(paths: string[]): string[] {
  return paths
    .map((p) => ({ p, k: Buffer.from(p, 'utf8') }))
    .sort((a, b) => Buffer.compare(a.k, b.k))
    .map((x) => x.p);
}

/**
 * Orders and normalises entries: sorted by path, missing parent directories added (0755),
 * duplicates rejected (identical directory entries excepted: several sources may name /usr),
 * hardlink groups rewritten so the member that sorts first carries the content.
 */
export function planEntries(entries: Iterable<LayerEntry>): Planned[] {
  const byPath = new Map<string, LayerEntry>();
  for (const e of entries) {
    checkPath(e.path, 'entry path');
    if (e.path === '/') continue;
    const prev = byPath.get(e.path);
    if (prev) {
      if (prev.type === 'dir' && e.type === 'dir' && (prev.mode ?? 0o755) === (e.mode ?? 0o755)) continue;
      throw new CogtsError(
        'E_LAYER_DUPLICATE',
        `layer has two entries for "${e.path}" (${prev.type} and ${e.type})`,
      );
    }
    byPath.set(e.path, e);
  }
  for (const p of [...byPath.keys()]) {
    for (let d = parentOf(p); d !== '/' && !byPath.has(d); d = parentOf(d))
      byPath.set(d, { type: 'dir', path: d });
    const parent = byPath.get(parentOf(p));
    if (parent && parent.type !== 'dir') {
      throw new CogtsError(
        'E_LAYER_PATH',
        `layer entry "${p}" is inside "${parentOf(p)}", which is a ${parent.type}`,
      );
    }
  }
  // Hardlinks: resolve each to its root file, then let the first path of the group hold the data.
  const rootOf = (e: LayerEntry, seen = new Set<string>()): FileEntry => {
    if (e.type === 'file') return e;
    if (e.type !== 'hardlink') {
      throw new CogtsError('E_LAYER_LINK', `hardlink target "${e.path}" is a ${e.type}, not a regular file`);
    }
    if (seen.has(e.path)) throw new CogtsError('E_LAYER_LINK', `hardlink cycle through "${e.path}"`);
    seen.add(e.path);
    checkPath(e.target, 'hardlink target');
    const t = byPath.get(e.target);
    if (!t)
      throw new CogtsError(
        'E_LAYER_LINK',
        `hardlink "${e.path}" points to "${e.target}", which is not in the layer`,
      );
    return rootOf(t, seen);
  };
  const groupHead = new Map<FileEntry, string>();
  const sorted = sortByUtf8([...byPath.keys()]);
  for (const p of sorted) {
    const e = byPath.get(p)!;
    if (e.type !== 'hardlink' && e.type !== 'file') continue;
    const root = rootOf(e);
    if (!groupHead.has(root)) groupHead.set(root, p);
  }
  return sorted.map((p): Planned => {
    const e = byPath.get(p)!;
    const name = archiveName(p);
    switch (e.type) {
      case 'dir':
        return { kind: 'dir', name: `${name}/`, mode: (e.mode ?? 0o755) & 0o7777 };
      case 'symlink':
        if (e.target === '') throw new CogtsError('E_LAYER_LINK', `symlink "${p}" has an empty target`);
        return { kind: 'symlink', name, mode: 0o777, target: e.target };
      case 'file':
      case 'hardlink': {
        const root = rootOf(e);
        const head = groupHead.get(root)!;
        const mode = (root.mode ?? (root.executable ? 0o755 : 0o644)) & 0o7777;
        if (head !== p) return { kind: 'hardlink', name, mode, target: archiveName(head) };
        if (!Number.isSafeInteger(root.size) || root.size < 0) {
          throw new CogtsError('E_LAYER_SIZE', `layer entry "${root.path}" has an invalid size ${root.size}`);
        }
        return { kind: 'file', name, mode, size: root.size, path: root.path, open: root.open };
      }
      default:
        throw new CogtsError('E_LAYER_ENTRY', `layer entry "${p}" has an unknown type`);
    }
  });
}

async function* tarChunks(planned: Planned[], mtime: number): AsyncGenerator<Buffer> {
  for (const e of planned) {
    switch (e.kind) {
      case 'dir':
        yield encodeHeader({ name: e.name, type: 'dir', mode: e.mode, size: 0, mtime });
        break;
      case 'symlink':
        yield encodeHeader({
          name: e.name,
          type: 'symlink',
          mode: e.mode,
          size: 0,
          mtime,
          linkname: e.target,
        });
        break;
      case 'hardlink':
        yield encodeHeader({
          name: e.name,
          type: 'hardlink',
          mode: e.mode,
          size: 0,
          mtime,
          linkname: e.target,
        });
        break;
      case 'file': {
        yield encodeHeader({ name: e.name, type: 'file', mode: e.mode, size: e.size, mtime });
        let n = 0;
        let src: Readable;
        try {
          src = await e.open();
        } catch (err) {
          throw new CogtsError(
            'E_LAYER_READ',
            `cannot read "${e.path}" for the layer: ${(err as Error).message}`,
            {
              cause: err,
            },
          );
        }
        try {
          for await (const chunk of src) {
            const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
            n += b.length;
            if (n > e.size) break;
            yield b;
          }
        } catch (err) {
          throw new CogtsError(
            'E_LAYER_READ',
            `cannot read "${e.path}" for the layer: ${(err as Error).message}`,
            {
              cause: err,
            },
          );
        } finally {
          src.destroy();
        }
        if (n !== e.size) {
          throw new CogtsError(
            'E_LAYER_SIZE',
            `"${e.path}" changed while building the layer: expected ${e.size} bytes, read ${n > e.size ? 'more' : n}`,
            { hint: 'do not modify the project while cogts builds it' },
          );
        }
        yield padding(e.size);
        break;
      }
    }
  }
  yield END_OF_ARCHIVE;
}

/**
 * A deterministic tar stream of the entries: the same entries give the same bytes on any machine.
 * Entry metadata is collected first (for sorting); file contents are opened one at a time.
 */
export function tarStream(entries: Iterable<LayerEntry>, opts: TarOptions = {}): Readable {
  const planned = planEntries(entries);
  return Readable.from(tarChunks(planned, opts.mtime ?? sourceDateEpoch()), { objectMode: false });
}

/** Collects an async source of entries (sources may walk directories asynchronously). */
export async function collectEntries(
  src: AsyncIterable<LayerEntry> | Iterable<LayerEntry>,
): Promise<LayerEntry[]> {
  const out: LayerEntry[] = [];
  for await (const e of src) out.push(e);
  return out;
}
