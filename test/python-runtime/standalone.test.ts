import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { isCogtsError } from '../../src/errors.js';
import { tarStream } from '../../src/layer/tar-stream.js';
import {
  type PythonRuntime,
  type StandaloneTable,
  standaloneAsset,
  standaloneProvider,
} from '../../src/sources/python/index.js';
import { testCacheDir } from '../helpers/cache.js';
import { fixturesDir } from '../helpers/paths.js';

const work = mkdtempSync(join(tmpdir(), 'cogts-pbs-'));
after(() => rmSync(work, { recursive: true, force: true }));

// A real CPython of this machine (COGTS_TEST_PYTHON, else python3 on PATH: pyenv here, Debian's in
// a bare CI) repackaged in python-build-standalone's layout by fixtures/python-standalone.
const hostPython = process.env.COGTS_TEST_PYTHON ?? 'python3';
const probe = JSON.parse(
  execFileSync(
    hostPython,
    [
      '-c',
      'import json, os, platform, sys, sysconfig; print(json.dumps([os.path.realpath(sys.executable), platform.python_version(), sysconfig.get_default_scheme()]))',
    ],
    {
      encoding: 'utf8',
    },
  ),
) as [string, string, string];
const [hostExe, hostVersion, hostScheme] = probe;
const minor = hostVersion.split('.').slice(0, 2).join('.');
const RELEASE = '20991231';
const FILE = `cpython-${hostVersion}+${RELEASE}-x86_64-unknown-linux-gnu-install_only.tar.gz`;

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

let archive: Buffer;
let served: Buffer;
let requests: string[] = [];
let server: Server;
let mirror: string;

before(async () => {
  // Built once per machine and interpreter (a few seconds), then reused by later runs.
  const recipe = join(fixturesDir, 'python-standalone', 'make_archive.py');
  const key = sha(Buffer.concat([Buffer.from(hostExe), readFileSync(recipe)])).slice(0, 12);
  const out = join(testCacheDir('python-standalone'), `${key}-${FILE}`);
  if (!existsSync(out)) {
    execFileSync(hostExe, [recipe, `${out}.tmp`]);
    renameSync(`${out}.tmp`, out);
  }
  archive = readFileSync(out);
  served = archive;
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    if (req.url === `/pbs/${RELEASE}/${encodeURIComponent(FILE)}`) {
      res.writeHead(200, { 'content-length': served.length }).end(served);
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  mirror = `http://127.0.0.1:${(server.address() as AddressInfo).port}/pbs`;
});
after(() => server?.close());

/** The real table's shape and upstream URL; only the pinned build is the locally made one. */
function table(hash: string | null): StandaloneTable {
  return {
    baseUrl: 'https://github.com/astral-sh/python-build-standalone/releases/download',
    fileTemplate: 'cpython-{version}+{release}-{triple}-{flavor}.tar.gz',
    defaultFlavor: 'install_only',
    flavors: ['install_only', 'install_only_stripped'],
    triples: { 'linux/amd64': 'x86_64-unknown-linux-gnu' },
    versions: {
      [minor]: {
        version: hostVersion,
        release: RELEASE,
        sha256: { 'x86_64-unknown-linux-gnu-install_only': hash },
      },
    },
  };
}

/** Writes the entries as a real layer with the project's tar writer and unpacks it with GNU tar. */
async function unpackLayer(rt: PythonRuntime, dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const tar = spawn('tar', ['-x', '-C', dir], { stdio: ['pipe', 'inherit', 'inherit'] });
  const exited = once(tar, 'exit');
  await pipeline(tarStream(rt.entries), tar.stdin);
  const [code] = await exited;
  assert.equal(code, 0, 'tar -x accepted the layer');
}

describe('standalone provider', () => {
  let rt: PythonRuntime;
  const image = join(work, 'image');

  it('downloads through the mirror, checks sha256 and lays python out under /opt/python', async () => {
    rt = await standaloneProvider({
      requested: minor,
      platform: 'linux/amd64',
      cacheDir: join(work, 'cache'),
      mirror,
      table: table(sha(archive)),
    });
    assert.deepEqual(requests, [`/pbs/${RELEASE}/${encodeURIComponent(FILE)}`]);
    assert.equal(rt.interpreter, `/opt/python/bin/python${minor}`);
    assert.equal(rt.sitePackages, `/opt/python/lib/python${minor}/site-packages`);
    assert.deepEqual(rt.pathPrepend, []);
    assert.deepEqual(rt.lock, {
      kind: 'standalone',
      version: hostVersion,
      release: RELEASE,
      triple: 'x86_64-unknown-linux-gnu',
      flavor: 'install_only',
      url: `${mirror}/${RELEASE}/${encodeURIComponent(FILE)}`,
      sha256: sha(archive),
      prefix: '/opt/python',
    });
    await unpackLayer(rt, image);
    assert.equal(readlinkSync(join(image, 'usr/local/bin/python3')), `/opt/python/bin/python${minor}`);
    assert.equal(
      readFileSync(join(image, `opt/python/bin/pydoc${minor}`), 'utf8').split('\n')[0],
      `#!/opt/python/bin/python${minor}`,
    );
    assert.match(
      readFileSync(join(image, `opt/python/lib/pkgconfig/python-${minor}.pc`), 'utf8'),
      /^prefix=\$\{pcfiledir\}\/\.\.\/\.\.$/m,
    );
  });

  it('runs from /opt/python with ssl and sqlite3, and sysconfig reports /opt/python, never /install', () => {
    assert.ok(rt, 'previous test built the image');
    // A private mount namespace puts the unpacked /opt at /opt, so the interpreter runs from exactly
    // the path it has in the image (the host's /opt is untouched outside the namespace).
    const code = `import ssl, sqlite3, sysconfig, json, sys
print(json.dumps({"paths": sysconfig.get_paths(), "vars": sysconfig.get_config_vars(), "prefix": sys.prefix, "ssl": ssl.OPENSSL_VERSION, "sqlite": sqlite3.sqlite_version}, default=str))`;
    const out = execFileSync(
      'unshare',
      [
        '--mount',
        'sh',
        '-c',
        `mount --bind "$0/opt" /opt && exec /opt/python/bin/python3 -c "$1"`,
        image,
        code,
      ],
      { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', LD_LIBRARY_PATH: '/opt/python/lib' } },
    );
    const r = JSON.parse(out);
    assert.equal(r.prefix, '/opt/python');
    assert.equal(r.paths.stdlib, `/opt/python/lib/python${minor}`);
    // Debian's interpreter (posix_local scheme) has its own idea of purelib; PBS's is upstream's.
    if (hostScheme === 'posix_prefix')
      assert.equal(r.paths.purelib, `/opt/python/lib/python${minor}/site-packages`);
    assert.equal(r.vars.prefix, '/opt/python');
    assert.match(r.vars.LIBDIR, /^\/opt\/python\/lib(\/|$)/, 'Debian puts it in a multiarch subdir');
    assert.equal(r.vars.INCLUDEPY, `/opt/python/include/python${minor}`);
    assert.equal(r.vars.PYTHON_BUILD_STANDALONE, 1);
    const leftovers = Object.entries(r.vars as Record<string, unknown>).filter(
      ([, v]) => typeof v === 'string' && /(^|[\s=:'"])\/install(\/|$|\s)/.test(v),
    );
    assert.deepEqual(leftovers, [], 'no config variable still names the build prefix');
    assert.match(r.ssl, /OpenSSL/);
    assert.match(r.sqlite, /^3\./);
  });

  it('keeps the shipped bytecode valid under the layer mtime, and drops it for rewritten modules', () => {
    assert.ok(rt, 'first test built the image');
    const pyc = (name: string) =>
      `/opt/python/lib/python${minor}/__pycache__/${name}.cpython-${minor.replace('.', '')}.pyc`;
    const paths = new Set(rt.entries.map((e) => e.path));
    assert.ok(paths.has(pyc('argparse')), 'the archive ships argparse bytecode');
    const sysconfigdata = [...paths].find((p) => /\/_sysconfigdata_[^/]*\.py$/.test(p)) as string;
    const stem = sysconfigdata.replace(/^.*\/(.*)\.py$/, '$1');
    assert.equal(paths.has(pyc(stem)), false, 'stale bytecode of the rewritten module is gone');
    const run = execFileSync(
      'unshare',
      [
        '--mount',
        'sh',
        '-c',
        'mount --bind "$0/opt" /opt && exec /opt/python/bin/python3 -v -c "import argparse" 2>&1',
        image,
      ],
      {
        encoding: 'utf8',
        env: { PATH: '/usr/bin:/bin', LD_LIBRARY_PATH: '/opt/python/lib', PYTHONDONTWRITEBYTECODE: '1' },
      },
    );
    assert.ok(run.includes(`code object from '${pyc('argparse')}'`), 'argparse loads from its shipped .pyc');
    assert.doesNotMatch(run, /bytecode is stale for 'argparse'/);
  });

  it('rejects a tampered archive and keeps nothing of it', async () => {
    const tampered = Buffer.from(archive);
    const mid = tampered.length >> 1;
    tampered.writeUInt8(tampered.readUInt8(mid) ^ 0xff, mid);
    served = tampered;
    requests = [];
    const cacheDir = join(work, 'cache-tampered');
    try {
      await assert.rejects(
        standaloneProvider({
          requested: minor,
          platform: 'linux/amd64',
          cacheDir,
          mirror,
          table: table(sha(archive)),
        }),
        (e: unknown) =>
          isCogtsError(e) && e.code === 'E_DIGEST_MISMATCH' && e.message.includes(sha(tampered)),
      );
    } finally {
      served = archive;
    }
    assert.equal(requests.length, 1);
    assert.deepEqual(readdirSync(join(cacheDir, 'downloads')), []);
    assert.equal(existsSync(join(cacheDir, 'unpacked')), false);
  });

  it('refuses, before any download, an archive whose hash is unknown unless one is given', async () => {
    requests = [];
    await assert.rejects(
      standaloneProvider({
        requested: minor,
        platform: 'linux/amd64',
        cacheDir: join(work, 'c3'),
        mirror,
        table: table(null),
      }),
      (e: unknown) =>
        isCogtsError(e) &&
        e.code === 'E_PYTHON_HASH_MISSING' &&
        e.message.includes(FILE) &&
        /--python-sha256/.test(e.hint ?? ''),
    );
    assert.deepEqual(requests, []);
    const given = await standaloneProvider({
      requested: minor,
      platform: 'linux/amd64',
      cacheDir: join(work, 'cache'),
      mirror,
      table: table(null),
      sha256: sha(archive),
      linkDir: null,
    });
    assert.equal(given.lock.kind === 'standalone' && given.lock.sha256, sha(archive));
    assert.deepEqual(given.pathPrepend, ['/opt/python/bin']);
    assert.equal(given.entries.filter((e) => e.path.startsWith('/usr/local/bin')).length, 0);
  });
});

describe('compat/python-standalone.json lookup', () => {
  it('builds the upstream URL for a pinned version, with its hash, and honours a mirror', () => {
    const a = standaloneAsset({ requested: '3.11', platform: 'linux/amd64' });
    assert.equal(
      a.url,
      'https://github.com/astral-sh/python-build-standalone/releases/download/20241016/cpython-3.11.10%2B20241016-x86_64-unknown-linux-gnu-install_only_stripped.tar.gz',
    );
    assert.match(a.sha256, /^[0-9a-f]{64}$/);
    const m = standaloneAsset({
      requested: '3.11',
      platform: 'linux/amd64',
      mirror: 'https://mirror.example/pbs/',
    });
    assert.equal(
      m.url,
      'https://mirror.example/pbs/20241016/cpython-3.11.10%2B20241016-x86_64-unknown-linux-gnu-install_only_stripped.tar.gz',
    );
  });

  it('fails clearly: missing hash, unpinned patch version, unknown platform, bad version', () => {
    const code = (c: string) => (e: unknown) => isCogtsError(e) && e.code === c;
    assert.throws(
      () => standaloneAsset({ requested: '3.12', platform: 'linux/amd64' }),
      code('E_PYTHON_HASH_MISSING'),
    );
    assert.equal(
      standaloneAsset({ requested: '3.12', platform: 'linux/amd64', sha256: 'a'.repeat(64) }).sha256From,
      'user',
    );
    assert.throws(
      () => standaloneAsset({ requested: '3.11.9', platform: 'linux/amd64' }),
      code('E_PYTHON_UNPINNED'),
    );
    const pinnedByUser = standaloneAsset({
      requested: '3.11.9',
      platform: 'linux/amd64',
      release: '20240814',
      sha256: 'b'.repeat(64),
    });
    assert.match(pinnedByUser.url, /\/20240814\/cpython-3\.11\.9%2B20240814-/);
    assert.throws(
      () => standaloneAsset({ requested: '3.11', platform: 'linux/s390x' }),
      code('E_PYTHON_PLATFORM'),
    );
    assert.throws(
      () => standaloneAsset({ requested: 'three', platform: 'linux/amd64' }),
      code('E_PYTHON_VERSION'),
    );
    assert.throws(
      () => standaloneAsset({ requested: '3.12', platform: 'linux/amd64', sha256: 'xyz' }),
      code('E_PYTHON_HASH'),
    );
  });
});
