/**
 * `--compression` / `--compression-level`: parsed and checked with the flag named in the error,
 * recorded in the plan as plain data, and printed by --dry-run (text and JSON).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { CogtsError } from '../../src/errors.js';
import { parseCompression, planOptionsFrom } from '../../src/plan/options.js';
import { cogtsBin, fixturesDir } from '../helpers/paths.js';
import { raw } from './raw-options.js';

const usage = (re: RegExp) => (e: unknown) =>
  e instanceof CogtsError && e.code === 'E_USAGE' && re.test(e.message);

test('parseCompression: defaults per algorithm, ranges per algorithm, the flag named in errors', () => {
  assert.deepEqual(parseCompression(), { algorithm: 'gzip', level: 1 });
  assert.deepEqual(parseCompression('zstd'), { algorithm: 'zstd', level: 3 });
  assert.deepEqual(parseCompression('zstd', 19), { algorithm: 'zstd', level: 19 });
  assert.deepEqual(parseCompression('gzip', 0), { algorithm: 'gzip', level: 0 });
  assert.throws(() => parseCompression('zstd', 0), usage(/^--compression-level 0: zstd levels are 1-19/));
  assert.throws(() => parseCompression('zstd', 22), usage(/^--compression-level 22: zstd levels are 1-19/));
  assert.throws(() => parseCompression('gzip', 10), usage(/^--compression-level 10: gzip levels are 0-9/));
  assert.throws(() => parseCompression('gzip', Number.NaN), usage(/^--compression-level NaN/));
  assert.throws(() => parseCompression('brotli'), usage(/^--compression brotli: expected gzip or zstd/));
  const opts = planOptionsFrom({ ...raw, compression: 'zstd', compressionLevel: 7 }, {}, '9.9.9', '/h');
  assert.deepEqual(opts.compression, { algorithm: 'zstd', level: 7 });
});

const hello = join(fixturesDir, 'models', 'hello', 'cog.yaml');
const env = { ...process.env, COGTS_CACHE_DIR: '/tmp/cogts-cache-test' };
const cogts = (args: string[]) =>
  spawnSync(process.execPath, [cogtsBin, 'build', '--dry-run', '-f', hello, ...args], {
    encoding: 'utf8',
    env,
  });

test('build --dry-run records the compression in the plan (JSON and text); default gzip level 1', () => {
  const def = cogts(['--json']);
  assert.equal(def.status, 0, def.stderr);
  assert.deepEqual(JSON.parse(def.stdout).compression, { algorithm: 'gzip', level: 1 });
  const z = cogts(['--json', '--compression', 'zstd']);
  assert.equal(z.status, 0, z.stderr);
  assert.deepEqual(JSON.parse(z.stdout).compression, { algorithm: 'zstd', level: 3 });
  const text = cogts(['--compression', 'zstd', '--compression-level', '9']);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /^Compression {2}zstd level 9 \(OCI tar\+zstd layers/m);
});

test('build rejects a level outside the algorithm range and an unknown algorithm', () => {
  const bad = cogts(['--compression', 'zstd', '--compression-level', '20']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /--compression-level 20: zstd levels are 1-19/);
  const gz = cogts(['--compression-level', '12']);
  assert.equal(gz.status, 1);
  assert.match(gz.stderr, /--compression-level 12: gzip levels are 0-9/);
  const unknown = cogts(['--compression', 'lz4']);
  assert.notEqual(unknown.status, 0);
  assert.match(unknown.stderr, /--compression lz4: expected gzip or zstd|Invalid values:.*compression/s);
});
