import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, found from this file whether it runs from test/ or dist/test/. */
export const repoRoot: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found above ' + import.meta.url);
    dir = up;
  }
  return dir;
})();

export const fixturesDir = join(repoRoot, 'fixtures');

/** The compiled tree this test runs from (dist/ in CI; a helper's own outDir while developing). */
export const distRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/**
 * `node <cogtsBin> …` runs the CLI compiled alongside this test: the one-file bundle that bin/cogts.js
 * runs when the build made it (npm run build), else the tsc module tree.
 */
export const cogtsBin = existsSync(join(distRoot, 'src', 'cli', 'cogts.mjs'))
  ? join(distRoot, 'src', 'cli', 'cogts.mjs')
  : join(distRoot, 'src', 'cli', 'bin.js');
