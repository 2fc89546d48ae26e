import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { cogtsBin } from '../helpers/paths.js';
import { type BaseImages, pushBaseImages, startRegistry, type TestRegistry } from '../helpers/registry.js';

let reg: TestRegistry;
let bases: BaseImages;
let home: string;

before(async () => {
  reg = await startRegistry({ auth: 'basic' });
  bases = await pushBaseImages(reg);
  home = mkdtempSync(join(tmpdir(), 'cogts-cli-'));
});
after(async () => {
  await reg?.stop();
  rmSync(home, { recursive: true, force: true });
});

function cogts(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [cogtsBin, ...args], {
    input,
    encoding: 'utf8',
    env: { ...process.env, DOCKER_CONFIG: join(home, 'docker'), REGISTRY_AUTH_FILE: '' },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('cogts login: wrong password is refused and nothing is saved; right password is saved in the Docker config', () => {
  const bad = cogts(['login', reg.host, '-u', reg.username!, '--password-stdin'], 'wrong\n');
  assert.equal(bad.code, 1, bad.err);
  assert.match(bad.err, /rejected the username or password of "cogts"/);
  assert.equal(existsSync(join(home, 'docker', 'config.json')), false);
  const ok = cogts(['login', reg.host, '-u', reg.username!, '--password-stdin'], `${reg.password}\n`);
  assert.equal(ok.code, 0, ok.err);
  const cfg = JSON.parse(readFileSync(join(home, 'docker', 'config.json'), 'utf8')) as {
    auths: Record<string, { auth: string }>;
  };
  assert.equal(
    Buffer.from(cfg.auths[reg.host]!.auth, 'base64').toString(),
    `${reg.username}:${reg.password}`,
  );
});

test('cogts inspect: pretty and --json, using the saved login; unknown tag is a clear error', () => {
  cogts(['login', reg.host, '-u', reg.username!, '-p', reg.password!]);
  const pretty = cogts(['inspect', bases.oci]);
  assert.equal(pretty.code, 0, pretty.err);
  assert.match(pretty.out, /Media type: +application\/vnd\.oci\.image\.manifest\.v1\+json/);
  assert.match(pretty.out, /org\.example\.base=cogts-test/);
  assert.match(pretty.out, /LD_LIBRARY_PATH=\/usr\/local\/cuda\/lib64/);
  const json = cogts(['inspect', bases.multi, '--json', '--platform', 'linux/arm64']);
  assert.equal(json.code, 0, json.err);
  const j = JSON.parse(json.out) as {
    config: { architecture: string };
    labels: object;
    resolvedDigest: string;
    digest: string;
  };
  assert.equal(j.config.architecture, 'arm64');
  assert.notEqual(j.resolvedDigest, j.digest);
  const missing = cogts(['inspect', `${reg.host}/base/oci:nope`]);
  assert.equal(missing.code, 1);
  assert.match(missing.err, /answered 404 .*MANIFEST_UNKNOWN/);
});
