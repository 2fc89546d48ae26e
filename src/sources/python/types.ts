import type { LayerEntry } from '../../layer/entry.js';

export type PythonProviderKind = 'base' | 'standalone' | 'apt';

/** What the lock file records about the Python runtime: enough to reproduce it byte for byte. */
export type PythonLock =
  | { kind: 'base'; interpreter: string; version: string }
  | {
      kind: 'standalone';
      version: string;
      release: string;
      triple: string;
      flavor: string;
      url: string;
      sha256: string;
      prefix: string;
    }
  | {
      kind: 'apt';
      version: string;
      packages: { name: string; version: string; arch: string; sha256: string; url: string }[];
    };

/** A provider's result: where Python lives in the image, what to add, and the lock record. */
export interface PythonRuntime {
  kind: PythonProviderKind;
  /** Absolute interpreter path in the image ("/opt/python/bin/python3.11"). */
  interpreter: string;
  /** "3.11.10" when known, else "3.11". */
  version: string;
  minor: string;
  stdlib: string;
  /** Where wheels are installed so this interpreter imports them. */
  sitePackages: string;
  /**
   * Directories the image config must prepend to PATH; [] when `python`/`python3` were linked into
   * a directory already on PATH (/usr/local/bin) or the interpreter is on PATH already.
   */
  pathPrepend: string[];
  /** Entries for the Python layer ([] for `base`; for `apt` only the extra links, the .debs go in the apt layer). */
  entries: LayerEntry[];
  lock: PythonLock;
}
