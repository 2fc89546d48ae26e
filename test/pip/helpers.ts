/** Shared test plumbing: fixture wheels built once per process, entries written to a folder. */

import { createWriteStream, rmSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { LayerGroup } from '../../src/pip/index.js';
import { buildFixtureWheels } from '../helpers/pyindex.js';

// Temp folders hold copies of real wheels (torch: 192 MB): removed when the test process exits.
const made: string[] = [];
process.once('exit', () => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

let wheelsDir: Promise<string> | undefined;
export function fixtureWheels(): Promise<string> {
  wheelsDir ??= (async () => {
    const d = await tmp('cogts-wheels-');
    buildFixtureWheels(d);
    return d;
  })();
  return wheelsDir;
}

export async function tmp(prefix = 'cogts-pip-'): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), prefix));
  made.push(d);
  return d;
}

/** Write every entry under `root` (image path /x → root/x), as the tar writer would lay it out. */
export async function materialize(groups: LayerGroup[], root: string): Promise<string[]> {
  const paths: string[] = [];
  for (const g of groups) {
    for (const e of g.entries) {
      const dest = join(root, e.path);
      await mkdir(dirname(dest), { recursive: true });
      if (e.type === 'file') {
        await pipeline(await e.open(), createWriteStream(dest));
        await chmod(dest, e.mode ?? (e.executable ? 0o755 : 0o644));
      } else if (e.type === 'dir') await mkdir(dest, { recursive: true });
      else await writeFile(dest, '');
      paths.push(e.path);
    }
  }
  return paths;
}

export const TARGET = { pythonVersion: '3.11', platform: 'linux/amd64', glibc: '2.35' };
