import type { Readable } from 'node:stream';

/** What a path is, after whiteouts and later layers have been applied. Hardlinks appear as 'file'. */
export type RootfsNodeType = 'file' | 'dir' | 'symlink' | 'char' | 'block' | 'fifo';

export interface RootfsStat {
  type: RootfsNodeType;
  /** Permission bits only (0o755), no file-type bits. */
  mode: number;
  /** Bytes for a file; 0 for everything else. */
  size: number;
  /** Link target exactly as stored; only for `lstat` of a symlink. */
  target?: string;
}

/**
 * A read-only view of an image's root filesystem: the merged layers of a base image, or a plain
 * directory (tests, debootstrap trees). Paths are absolute inside the rootfs ("/etc/os-release").
 *
 * Symlinks are resolved inside the rootfs only: an absolute target restarts at the rootfs root, ".."
 * stops at it, so nothing here ever reads the host's files.
 *
 * Structurally this is a superset of src/apt's `RootfsView` (readFile, list, readlink, isDir), so a
 * `Rootfs` can be passed wherever that is expected.
 */
export interface Rootfs {
  /**
   * Whole content of a regular file, following symlinks. undefined when the path is missing or not a
   * regular file. Throws CogtsError `E_ROOTFS_NOT_CAPTURED` when the file exists but a layer view was
   * told not to keep its content (see `KeepRule`): a silent undefined would look like "missing".
   */
  readFile(path: string): Buffer | undefined;
  /**
   * The first bytes of a file that were kept (the whole file if it was kept whole, else the head the
   * KeepRule asked for); undefined when missing or nothing was kept. Never throws for uncaptured data.
   */
  readHead(path: string): Buffer | undefined;
  /** Metadata following every symlink (like fs.stat); type is never 'symlink'. */
  stat(path: string): RootfsStat | undefined;
  /** Metadata of the path itself: intermediate links followed, the last one not (like fs.lstat). */
  lstat(path: string): RootfsStat | undefined;
  /** Entry names (not paths) directly inside a directory, following symlinks, sorted; [] when not a dir. */
  list(dir: string): string[];
  /** True when the path exists after following symlinks (a dangling link is false, like fs.existsSync). */
  exists(path: string): boolean;
  /** A symlink's stored target, or undefined when the path is not a symlink. */
  readlink(path: string): string | undefined;
  /** True for a directory, following symlinks. */
  isDir(path: string): boolean;
  /** Canonical absolute path with every symlink resolved inside the rootfs; undefined when missing. */
  realpath(path: string): string | undefined;
}

/**
 * How much content to keep for a regular file while streaming a layer: `true` the whole file, a
 * number that many leading bytes (ELF headers), `false` nothing (only its metadata is indexed).
 * Decided up front because each layer is read once; content not kept cannot be read later.
 */
export type KeepRule = (path: string, info: { size: number; mode: number }) => boolean | number;

/** One layer blob, lowest first: plain tar, gzip or zstd (sniffed from the first bytes). */
export type LayerBlob =
  | (() => Readable | Promise<Readable>)
  | { open: () => Readable | Promise<Readable>; id?: string };
