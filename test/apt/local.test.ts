import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { dirRootfsView, installApt, planApt } from '../../src/apt/index.js';
import { CogtsError } from '../../src/errors.js';
import { applyEntries } from './extract.js';
import { buildLocalRepo, type LocalRepo, makeBase, serve, signClear } from './localrepo.js';

let repo: LocalRepo;
let srv: Awaited<ReturnType<typeof serve>>;
const cleanup: string[] = [];

before(async () => {
  repo = await buildLocalRepo();
  srv = await serve(repo.root);
  cleanup.push(repo.root);
});
after(() => {
  srv.server.close();
  for (const d of cleanup) rmSync(d, { recursive: true, force: true });
});

function cache(): string {
  const d = mkdtempSync(join(tmpdir(), 'cogts-aptcache-'));
  cleanup.push(d);
  return d;
}

/** A base whose sources.list points at `uri`; the binary test key in trusted.gpg.d. */
function base(uri: string, extra = ''): string {
  const d = makeBase({
    sourcesList: `deb ${uri} test main\n${extra}`,
    keyring: { path: '/etc/apt/trusted.gpg.d/test.gpg', data: repo.publicKeyBinary },
  });
  cleanup.push(d);
  return d;
}

async function rejects(p: Promise<unknown>, code: string, re: RegExp): Promise<CogtsError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof CogtsError, `expected CogtsError, got ${e}`);
    assert.equal(e.code, code, e.message);
    assert.match(`${e.message} ${e.hint ?? ''}`, re);
    return e;
  }
  assert.fail(`expected ${code}`);
}

test('resolves versions, Provides, skips satisfied base packages; installs a layer dpkg accepts', async () => {
  const dir = base(srv.url);
  const view = dirRootfsView(dir);
  const cacheDir = cache();
  const res = await planApt({ base: view, packages: ['hello-tool', 'needs-virtual'], cacheDir });
  assert.deepEqual(
    res.packages.map((p) => `${p.name}=${p.version}`),
    ['hello-data=1.0-1', 'hello-tool=1.0-1', 'libhello1=1.0-1', 'needs-virtual=1.0'],
  );
  assert.match(res.packages[1]!.url, /^http:\/\/127\.0\.0\.1:\d+\/pool\/hello-tool_1\.0-1_amd64\.deb$/);
  assert.equal(res.packages[1]!.sha256.length, 64);
  const { entries, report } = await installApt(res, view, { cacheDir });
  const paths = entries.map((e) => e.path);
  assert.deepEqual(paths, [...paths].sort(), 'sorted');
  assert.equal(new Set(paths).size, paths.length, 'unique');
  // Merged /usr: /bin/hello lands in /usr/bin and no entry replaces the /bin symlink.
  assert.ok(paths.includes('/usr/bin/hello'));
  assert.ok(!paths.includes('/bin') && !paths.some((p) => p.startsWith('/bin/')));
  assert.deepEqual(
    report.alternatives.map((a) => a.name),
    ['libblas.so.3-x86_64-linux-gnu'],
  );
  assert.deepEqual(
    report.skippedScripts.map((s) => `${s.pkg} ${s.script}`),
    ['hello-data postinst'],
  );
  assert.match(report.skippedScripts[0]!.lines.join('\n'), /update-mime-database/);

  await applyEntries(dir, entries);
  assert.equal(
    readlinkSync(join(dir, 'usr/lib/x86_64-linux-gnu/libblas.so.3')),
    '/etc/alternatives/libblas.so.3-x86_64-linux-gnu',
  );
  assert.equal(
    readlinkSync(join(dir, 'etc/alternatives/libblas.so.3-x86_64-linux-gnu')),
    '/usr/lib/x86_64-linux-gnu/hello/libblas.so.3',
  );
  assert.equal(
    readFileSync(join(dir, 'bin/hello-again'), 'utf8'),
    '#!/bin/sh\necho hello\n',
    'hard link content',
  );
  const status = readFileSync(join(dir, 'var/lib/dpkg/status'), 'utf8');
  assert.match(status, /Package: hello-tool\nStatus: install ok installed\n/);
  assert.match(status, /Conffiles:\n \/etc\/hello\.conf [0-9a-f]{32}\n/);
  assert.match(
    status,
    /Package: base-lib\nStatus: install ok installed\n[\s\S]*Version: 1\.8/,
    'base package kept, not upgraded',
  );
  assert.ok(existsSync(join(dir, 'var/lib/dpkg/info/libhello1:amd64.list')), 'Multi-Arch: same info name');
  // The real dpkg reads the database we wrote and verifies every file against our md5sums.
  const list = execFileSync('dpkg', [`--root=${dir}`, '-l'], {
    env: { ...process.env, COLUMNS: '200' },
  }).toString();
  for (const p of ['hello-tool', 'hello-data', 'libhello1:amd64', 'needs-virtual'])
    assert.match(list, new RegExp(`^ii  ${p.replace('+', '\\+')}\\s`, 'm'));
  assert.equal(
    execFileSync('dpkg', [`--root=${dir}`, '--verify', 'hello-tool', 'libhello1', 'hello-data']).toString(),
    '',
  );
  assert.match(execFileSync('dpkg', [`--root=${dir}`, '-L', 'hello-tool']).toString(), /^\/bin\/hello$/m);
});

test('flat repository with an armored Signed-By keyring', async () => {
  const d = makeBase({
    sourcesList: `deb [signed-by=/etc/apt/keyrings/test.asc] ${srv.url}/flat ./\n`,
    keyring: { path: '/etc/apt/keyrings/test.asc', data: repo.publicKey },
  });
  cleanup.push(d);
  const res = await planApt({ base: dirRootfsView(d), packages: ['hello-data'], cacheDir: cache() });
  assert.deepEqual(
    res.packages.map((p) => p.url.slice(srv.url.length)),
    ['/flat/hello-data_1.0-1_all.deb'],
  );
  assert.deepEqual(res.indexes, [`${srv.url}/flat/InRelease`]);
});

test('--apt-mirror FROM=TO reroutes the base image sources', async () => {
  const d = base('http://127.0.0.1:1/debian');
  const res = await planApt({
    base: dirRootfsView(d),
    packages: ['hello-data'],
    cacheDir: cache(),
    mirrors: [`http://127.0.0.1:1/debian=${srv.url}`],
  });
  assert.equal(res.packages[0]!.url, `${srv.url}/pool/hello-data_1.0-1_all.deb`);
});

test('unknown package: did you mean', async () => {
  const e = await rejects(
    planApt({ base: dirRootfsView(base(srv.url)), packages: ['hello-tol'], cacheDir: cache() }),
    'E_APT_UNKNOWN_PACKAGE',
    /did you mean "hello-tool"/,
  );
  assert.match(e.message, /"hello-tol"/);
});

test('upgrades base packages the request needs newer, and the base packages that depend on them', async () => {
  const view = dirRootfsView(base(srv.url));
  const res = await planApt({ base: view, packages: ['needs-new-base'], cacheDir: cache() });
  // base-lib 1.8 → 2.0 for needs-new-base; base-user 1.0 (Depends base-lib << 2.0) → 1.1, as apt would.
  assert.deepEqual(
    res.packages.map((p) => `${p.name}=${p.version}`),
    ['base-lib=2.0', 'base-user=1.1', 'needs-new-base=1.0'],
  );
  const { entries } = await installApt(res, view, { cacheDir: cache() });
  const status = entries.find((e) => e.path === '/var/lib/dpkg/status');
  assert.ok(status?.type === 'file');
  let text = '';
  for await (const c of await status.open()) text += c;
  assert.match(text, /Package: base-lib\nStatus: install ok installed\n[\s\S]*?Version: 2\.0\n/);
  assert.equal((text.match(/^Package: base-lib$/gm) ?? []).length, 1, 'the old stanza is replaced');
});

test('Breaks against a base package that cannot be upgraded is an error', async () => {
  await rejects(
    planApt({ base: dirRootfsView(base(srv.url)), packages: ['breaker'], cacheDir: cache() }),
    'E_APT_UNSATISFIABLE',
    /dpkg 1\.21\.22 \(installed in the base\): breaker 1\.0 breaks or conflicts with dpkg 1\.21\.22, and no newer dpkg is available/,
  );
});

test('unsatisfiable dependency prints the chain', async () => {
  await rejects(
    planApt({ base: dirRootfsView(base(srv.url)), packages: ['broken-chain'], cacheDir: cache() }),
    'E_APT_UNSATISFIABLE',
    /broken-chain → middle-pkg → libmissing \(>= 2\): not in any source/,
  );
});

test('InRelease: unsigned, tampered, signed by an unknown key → E_APT_SIGNATURE', async () => {
  const good = readFileSync(join(repo.root, 'dists/test/InRelease'), 'utf8');
  const plain = good.replace(/^[\s\S]*?\n\n/, '').replace(/-----BEGIN PGP SIGNATURE-----[\s\S]*$/, '');
  const cases: [string, Buffer][] = [
    ['unsigned', Buffer.from(plain)],
    ['tampered', Buffer.from(good.replace('Origin: cogts-test', 'Origin: cogts-evil'))],
    ['wrong key', Buffer.from(await signClear(plain, repo.otherKey))],
  ];
  for (const [what, body] of cases) {
    const s = await serve(repo.root, new Map([['/dists/test/InRelease', body]]));
    try {
      await rejects(
        planApt({ base: dirRootfsView(base(s.url)), packages: ['hello-data'], cacheDir: cache() }),
        'E_APT_SIGNATURE',
        /InRelease/,
      );
      assert.ok(
        !s.hits.some((h) => h.includes('Packages')),
        `${what}: no index fetched after a bad signature`,
      );
    } finally {
      s.server.close();
    }
  }
});

test('Packages and .deb hash mismatches are refused', async () => {
  const s = await serve(
    repo.root,
    new Map([
      ['/dists/test/main/binary-amd64/Packages.xz', readFileSync(join(repo.root, 'flat/Packages.gz'))],
    ]),
  );
  try {
    await rejects(
      planApt({ base: dirRootfsView(base(s.url)), packages: ['hello-data'], cacheDir: cache() }),
      'E_APT_HASH',
      /Packages index .*sha256 mismatch/,
    );
  } finally {
    s.server.close();
  }
  const view = dirRootfsView(base(srv.url));
  const res = await planApt({ base: view, packages: ['hello-data'], cacheDir: cache() });
  const bad = await serve(
    repo.root,
    new Map([[new URL(res.packages[0]!.url).pathname, Buffer.from('not a deb')]]),
  );
  try {
    const pkgs = res.packages.map((p) => ({ ...p, url: p.url.replace(srv.url, bad.url) }));
    await rejects(
      installApt({ ...res, packages: pkgs }, view, { cacheDir: cache() }),
      'E_APT_HASH',
      /hello-data 1\.0-1: sha256 mismatch/,
    );
  } finally {
    bad.server.close();
  }
});

test('unreachable archive → E_APT_UNREACHABLE naming the URL', async () => {
  await rejects(
    planApt({ base: dirRootfsView(base('http://127.0.0.1:1/debian')), packages: ['x'], cacheDir: cache() }),
    'E_APT_UNREACHABLE',
    /127\.0\.0\.1:1\/debian\/dists\/test\/InRelease/,
  );
});

test('missing keyring → clear error', async () => {
  const d = makeBase({ sourcesList: `deb ${srv.url} test main\n` });
  cleanup.push(d);
  await rejects(
    planApt({ base: dirRootfsView(d), packages: ['hello-data'], cacheDir: cache() }),
    'E_APT_SIGNATURE',
    /no trusted keys/,
  );
});
