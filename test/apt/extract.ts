import { chmodSync, createWriteStream, lstatSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { LayerEntry } from '../../src/layer/entry.js';

/**
 * Lays entries over a directory the way a container runtime applies a layer (an existing path is
 * replaced; parents are never resolved through symlinks the layer itself did not name). Test-only
 * stand-in for "tar writer + unpack", so apt tests do not depend on another area's writer.
 */
export async function applyEntries(root: string, entries: LayerEntry[]): Promise<void> {
  for (const e of entries) {
    const dest = join(root, e.path);
    mkdirSync(dirname(dest), { recursive: true });
    let existing: ReturnType<typeof lstatSync> | undefined;
    try {
      existing = lstatSync(dest);
    } catch {}
    if (e.type === 'dir') {
      if (existing?.isDirectory()) chmodSync(dest, e.mode ?? 0o755);
      else {
        if (existing) rmSync(dest, { recursive: true, force: true });
        mkdirSync(dest, { mode: e.mode ?? 0o755 });
        chmodSync(dest, e.mode ?? 0o755);
      }
      continue;
    }
    if (existing) rmSync(dest, { recursive: true, force: true });
    if (e.type === 'symlink') symlinkSync(e.target, dest);
    else if (e.type === 'file') {
      await pipeline(await e.open(), createWriteStream(dest));
      chmodSync(dest, e.mode ?? (e.executable ? 0o755 : 0o644));
    } else throw new Error(`unexpected ${e.type} entry ${e.path}`);
  }
}
