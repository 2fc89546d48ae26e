import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cogtsBin, fixturesDir } from './helpers/paths.js';

const cogts = cogtsBin;

test('cogts --version prints the package version', () => {
  const r = spawnSync(process.execPath, [cogts, '--version'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.match(r.stdout.trim(), /^\d+\.\d+\.\d+/);
});

test('an unknown command is a usage error (exit 2)', () => {
  const r = spawnSync(process.execPath, [cogts, 'frobnicate'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /Unknown argument|Unknown command/i);
});

const run = (args: string[], cwd?: string, env: NodeJS.ProcessEnv = process.env) =>
  spawnSync(process.execPath, [cogts, ...args], { encoding: 'utf8', cwd, env });

test('cogts init && cogts build --dry-run works in an empty folder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cogts-init-'));
  const init = run(['init'], dir);
  assert.equal(init.status, 0, init.stderr);
  assert.deepEqual(readdirSync(dir).sort(), ['.dockerignore', 'cog.yaml', 'predict.py']);
  const build = run(['build', '--dry-run'], dir);
  assert.equal(build.status, 0, build.stderr);
  assert.match(build.stdout, /Base image\s+docker\.io\/library\/debian:bookworm-slim/);
  assert.match(build.stdout, /code\s+model code from/);
});

test('cogts init refuses to overwrite and writes nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cogts-init-'));
  writeFileSync(join(dir, 'predict.py'), 'mine\n');
  const r = run(['init'], dir);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /predict\.py already exists; cogts init writes nothing/);
  assert.deepEqual(readdirSync(dir), ['predict.py']);
  assert.equal(readFileSync(join(dir, 'predict.py'), 'utf8'), 'mine\n');
});

test('build --dry-run --json prints the plan of the README example as JSON', () => {
  const r = run(
    ['build', '--dry-run', '--json', '-f', join(fixturesDir, 'models', 'hello', 'cog.yaml')],
    undefined,
    {
      ...process.env,
      COGTS_REGISTRY_MIRRORS: 'docker.io=http://127.0.0.1:5999',
      COGTS_CACHE_DIR: '/tmp/cogts-cache-test',
    },
  );
  assert.equal(r.status, 0, r.stderr);
  const plan = JSON.parse(r.stdout);
  assert.equal(plan.planVersion, 1);
  assert.equal(plan.toolchain.python.version, '3.11');
  assert.deepEqual(
    plan.layers.map((l: { kind: string }) => l.kind),
    ['python', 'pip', 'runtime', 'code'],
  );
  assert.deepEqual(plan.image.entrypoint, ['/opt/cogts/bin/node', '/opt/cogts/server.mjs']);
  assert.deepEqual(plan.network.registryMirrors, [{ host: 'docker.io', url: 'http://127.0.0.1:5999' }]);
  assert.equal(plan.cache.dir, '/tmp/cogts-cache-test');
});

test('a bad cog.yaml exits 1 and lists every problem with file:line:col', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cogts-bad-'));
  writeFileSync(join(dir, 'cog.yaml'), 'build:\n  gpu: maybe\n  pyhton_version: "3.11"\n');
  const r = run(['build', '--dry-run'], dir);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /cog\.yaml:2:8: build\.gpu: expected true or false, got "maybe"/);
  assert.match(
    r.stderr,
    /cog\.yaml:3:3: build\.pyhton_version: unknown key "pyhton_version" \(did you mean python_version\?\)/,
  );
});

test('a compat conflict exits 1 naming both versions', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cogts-conflict-'));
  writeFileSync(
    join(dir, 'cog.yaml'),
    'build:\n  gpu: true\n  python_version: "3.13"\n  python_packages: ["torch==2.1.0"]\n',
  );
  const r = run(['build', '--dry-run'], dir);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /torch==2\.1\.0 .* no wheels for Python 3\.13/);
  assert.match(r.stderr, /hint: .*3\.11/);
});

test('a build whose base registry cannot be reached fails with an error naming it (exit 1)', () => {
  const r = run([
    'build',
    '-f',
    join(fixturesDir, 'models', 'hello', 'cog.yaml'),
    '--base-image',
    '127.0.0.1:9/nothing/here:1',
    '--push',
    '127.0.0.1:9/out:1',
  ]);
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /^error: .*127\.0\.0\.1:9/m);
  assert.doesNotMatch(r.stderr, /internal error/);
});

for (const command of ['build', 'serve', 'predict', 'init', 'inspect', 'lock', 'login']) {
  test(`cogts ${command} --help describes the command`, () => {
    const r = run([command, '--help']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`cogts ${command}`));
    assert.match(r.stdout, /--help/);
  });
}
