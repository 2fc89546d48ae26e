import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from './helpers/paths.js';

// bin/cogts.js runs dist/; only meaningful once `npm run build` has produced it.
test('bin/cogts.js runs the built CLI', { skip: !existsSync(join(repoRoot, 'dist/src/cli/bin.js')) }, () => {
  const r = spawnSync(process.execPath, [join(repoRoot, 'bin', 'cogts.js'), '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /cogts build/);
});
