/**
 * A read-only view of a root filesystem: the base image's merged layers (whiteouts applied), or a
 * plain directory in tests (see `dirRootfsView`). Paths are absolute inside the rootfs ("/etc/os-release").
 *
 * Contract for implementers:
 * - `readFile` follows symlinks inside the rootfs (never outside it) and returns undefined when the
 *   path is missing or not a regular file.
 * - `list` returns the entry names (not paths) directly inside a directory, sorted; [] when missing.
 * - `readlink` returns a symlink's target exactly as stored, or undefined when not a symlink. The
 *   installer uses it to see usrmerge links (/bin → usr/bin) and existing library symlinks.
 * - `isDir` is true for a directory (following symlinks).
 */
export interface RootfsView {
  readFile(path: string): Buffer | undefined;
  list(dir: string): string[];
  readlink(path: string): string | undefined;
  isDir(path: string): boolean;
}

/** One APT source after parsing and mirror rewriting: a suite (`dists/<suite>`) or a flat repo. */
export interface AptSource {
  /** Archive base URL without trailing slash ("http://deb.debian.org/debian"). */
  uri: string;
  /** For a normal repo the suite ("bookworm"); for a flat repo the path below `uri` ending in "/" ("./"). */
  suite: string;
  /** Empty for a flat repository. */
  components: string[];
  /** Restricts which architectures this source serves (Architectures: / [arch=...]); undefined = all. */
  architectures?: string[];
  /** Absolute path of the keyring file inside the rootfs (Signed-By:), when the source names one. */
  signedBy?: string;
  /** Inline armored key from a deb822 `Signed-By:` block. */
  signedByInline?: string;
  /** Where this source was declared ("/etc/apt/sources.list.d/debian.sources"), for error messages. */
  origin: string;
}

export function isFlat(s: AptSource): boolean {
  return s.components.length === 0;
}
