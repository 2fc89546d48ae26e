import type { Readable } from 'node:stream';

/**
 * The one currency between layer sources and the tar writer. A source (model code, apt .debs, wheels,
 * Python runtime, cogts runtime) yields LayerEntry values; it never writes tar bytes itself. The tar
 * writer sorts, adds missing parent directories, normalises ownership/mtime and rejects duplicates.
 *
 * `path` is absolute inside the image, POSIX, without trailing slash ("/src/predict.py").
 */
export type LayerEntry = FileEntry | DirEntry | SymlinkEntry | HardlinkEntry;

interface EntryBase {
  path: string;
  /** Permission bits (e.g. 0o644). Omitted: 0o644 for files (0o755 if `executable`), 0o755 for dirs. */
  mode?: number;
}

export interface FileEntry extends EntryBase {
  type: 'file';
  size: number;
  /** Called once, when the writer reaches this entry: content is streamed, never held whole. */
  open: () => Readable | Promise<Readable>;
  executable?: boolean;
}

export interface DirEntry extends EntryBase {
  type: 'dir';
}

export interface SymlinkEntry extends EntryBase {
  type: 'symlink';
  /** Link target exactly as stored (relative or absolute). */
  target: string;
}

export interface HardlinkEntry extends EntryBase {
  type: 'hardlink';
  /** Absolute image path of an entry that appears earlier in the same layer. */
  target: string;
}

/** A whole file held in memory: for small generated files (dpkg status, RECORD, wrappers). */
export function bufferEntry(path: string, data: Buffer | string, mode?: number): FileEntry {
  const buf = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  return {
    type: 'file',
    path,
    size: buf.length,
    mode,
    open: async () => {
      const { Readable } = await import('node:stream');
      return Readable.from([buf]);
    },
  };
}
