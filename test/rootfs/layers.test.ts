import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  createReadStream,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { isCogtsError } from '../../src/errors.js';
import { keepGlobs, type Rootfs, rootfsFromDir, rootfsFromLayers } from '../../src/rootfs/index.js';

const work = mkdtempSync(join(tmpdir(), 'cogts-rootfs-'));
after(() => rmSync(work, { recursive: true, force: true }));

function put(root: string, rel: string, data: string | Buffer, mode = 0o644): void {
  const p = join(root, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, data, { mode });
}

/** Writes an uncompressed tar of `entries` (in exactly this order: whiteout order matters) with GNU tar. */
function tarOf(dir: string, entries: string[], out: string): string {
  execFileSync('tar', [
    '--no-recursion',
    '--numeric-owner',
    '--owner=0',
    '--group=0',
    '-cf',
    out,
    '-C',
    dir,
    ...entries,
  ]);
  return out;
}

/** Every path below `dir` with its metadata, as one sortable line, for comparing two views. */
function walk(view: Rootfs, dir = '/'): string[] {
  const lines: string[] = [];
  for (const name of view.list(dir)) {
    const p = dir === '/' ? `/${name}` : `${dir}/${name}`;
    const st = view.lstat(p);
    assert.ok(st, p);
    lines.push(`${p} ${st.type} ${st.mode.toString(8)} ${st.size} ${st.target ?? ''}`);
    if (st.type === 'dir') lines.push(...walk(view, p));
  }
  return lines;
}

const OS1 = 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n';
const OS2 = 'PRETTY_NAME="Ubuntu 22.04.4 LTS"\nID=ubuntu\nVERSION_ID="22.04"\nVERSION_CODENAME=jammy\n';
const keep = keepGlobs({ whole: ['/etc/**', '/usr/bin/*'], head: ['**/lib*.so*'], headBytes: 4096 });

let l1: string;
let l2: string;
let l3: string;

before(() => {
  const d1 = join(work, 'd1');
  put(d1, 'etc/os-release', OS1);
  put(d1, 'etc/apt/sources.list', 'deb http://deb.debian.org/debian bookworm main\n');
  put(d1, 'usr/bin/a', 'A1', 0o755);
  linkSync(join(d1, 'usr/bin/a'), join(d1, 'usr/bin/b'));
  put(d1, 'usr/share/data/big', 'shared-by-hardlink');
  mkdirSync(join(d1, 'etc/keep'));
  linkSync(join(d1, 'usr/share/data/big'), join(d1, 'etc/keep/hl'));
  put(d1, 'usr/lib/libfoo.so.1', Buffer.alloc(8000, 7));
  put(d1, 'opt/opaque/old1', 'o1');
  put(d1, 'opt/opaque/sub/old2', 'o2');
  put(d1, 'opt/gone/f', 'g');
  symlinkSync('usr/bin', join(d1, 'bin'));
  symlinkSync('usr/lib', join(d1, 'lib'));
  symlinkSync('/etc/os-release', join(d1, 'etc/abs'));
  symlinkSync('../etc/os-release', join(d1, 'etc/rel'));
  symlinkSync('../../../../../etc/os-release', join(d1, 'etc/escape'));
  symlinkSync('loop2', join(d1, 'etc/loop1'));
  symlinkSync('loop1', join(d1, 'etc/loop2'));
  l1 = tarOf(
    d1,
    [
      'etc',
      'etc/os-release',
      'etc/apt',
      'etc/apt/sources.list',
      'usr',
      'usr/bin',
      'usr/bin/a',
      'usr/bin/b',
      'usr/share',
      'usr/share/data',
      'usr/share/data/big',
      'etc/keep',
      'etc/keep/hl',
      'usr/lib',
      'usr/lib/libfoo.so.1',
      'opt',
      'opt/opaque',
      'opt/opaque/old1',
      'opt/opaque/sub',
      'opt/opaque/sub/old2',
      'opt/gone',
      'opt/gone/f',
      'bin',
      'lib',
      'etc/abs',
      'etc/rel',
      'etc/escape',
      'etc/loop1',
      'etc/loop2',
    ],
    join(work, 'l1.tar'),
  );

  const d2 = join(work, 'd2');
  put(d2, 'etc/os-release', OS2);
  put(d2, 'usr/bin/.wh.a', '');
  put(d2, 'opt/opaque/new', 'n');
  put(d2, 'opt/opaque/.wh..wh..opq', '');
  put(d2, 'opt/.wh.gone', '');
  put(d2, 'opt/gone2/x', 'x');
  // The opaque marker comes AFTER a sibling of the same layer: it must hide only lower layers.
  l2 = tarOf(
    d2,
    [
      'etc',
      'etc/os-release',
      'usr',
      'usr/bin',
      'usr/bin/.wh.a',
      'opt',
      'opt/opaque',
      'opt/opaque/new',
      'opt/opaque/.wh..wh..opq',
      'opt/.wh.gone',
      'opt/gone2',
      'opt/gone2/x',
    ],
    join(work, 'l2.tar'),
  );

  const d3 = join(work, 'd3');
  put(d3, 'usr/bin/a', 'A3', 0o700);
  put(d3, 'opt/opaque/sub/new2', 'n2');
  put(d3, 'etc/apt/sources.list.d/x.sources', 'Types: deb\n');
  l3 = tarOf(
    d3,
    [
      'usr',
      'usr/bin',
      'usr/bin/a',
      'opt',
      'opt/opaque',
      'opt/opaque/sub',
      'opt/opaque/sub/new2',
      'etc',
      'etc/apt',
      'etc/apt/sources.list.d',
      'etc/apt/sources.list.d/x.sources',
    ],
    join(work, 'l3.tar'),
  );
  execFileSync('gzip', ['-k', '-n', l2]);
  execFileSync('zstd', ['-q', '-k', l3, '-o', `${l3}.zst`]);
});

const file = (p: string) => () => createReadStream(p);

describe('rootfsFromLayers', () => {
  it('merges plain, gzip and zstd layers with whiteouts, opaque dirs and later-wins', async () => {
    const v = await rootfsFromLayers([file(l1), file(`${l2}.gz`), file(`${l3}.zst`)], { keep });
    assert.equal(v.readFile('/etc/os-release')?.toString(), OS2);
    assert.equal(v.readFile('/usr/bin/a')?.toString(), 'A3');
    assert.equal(v.stat('/usr/bin/a')?.mode, 0o700);
    assert.equal(
      v.readFile('/usr/bin/b')?.toString(),
      'A1',
      'a hardlink survives the whiteout of its target',
    );
    assert.deepEqual(v.list('/opt/opaque'), ['new', 'sub']);
    assert.deepEqual(v.list('/opt/opaque/sub'), ['new2']);
    assert.equal(v.exists('/opt/gone'), false);
    assert.equal(v.exists('/opt/gone2/x'), true);
    assert.deepEqual(v.list('/etc/apt/sources.list.d'), ['x.sources']);
  });

  it('resolves symlinks inside the rootfs only', async () => {
    const v = await rootfsFromLayers([file(l1)], { keep });
    for (const p of ['/etc/abs', '/etc/rel', '/etc/escape']) assert.equal(v.readFile(p)?.toString(), OS1, p);
    assert.equal(v.realpath('/bin/a'), '/usr/bin/a');
    assert.equal(v.readFile('/bin/a')?.toString(), 'A1');
    assert.deepEqual(v.lstat('/bin'), { type: 'symlink', mode: 0o777, size: 0, target: 'usr/bin' });
    assert.equal(v.stat('/bin')?.type, 'dir');
    assert.equal(v.readlink('/etc/abs'), '/etc/os-release');
    assert.equal(v.isDir('/lib'), true);
    assert.equal(v.exists('/etc/loop1'), false, 'a symlink loop resolves to nothing instead of hanging');
    assert.equal(v.readFile('/nope'), undefined);
    assert.equal(v.readFile('/etc'), undefined);
    assert.deepEqual(v.list('/etc/os-release'), []);
  });

  it('keeps only what the rule asks for, heads included, and says so when content is missing', async () => {
    const v = await rootfsFromLayers([file(l1)], { keep });
    assert.equal(v.stat('/lib/libfoo.so.1')?.size, 8000);
    assert.equal(v.readHead('/lib/libfoo.so.1')?.length, 4096);
    assert.throws(
      () => v.readFile('/usr/lib/libfoo.so.1'),
      (e: unknown) => isCogtsError(e) && e.code === 'E_ROOTFS_NOT_CAPTURED' && /libfoo/.test(e.message),
    );
    assert.equal(v.readHead('/usr/share/data/big'), undefined);
    // /etc/keep/hl is a hardlink to a file whose path was not kept: the layer is read again for it.
    assert.equal(v.readFile('/etc/keep/hl')?.toString(), 'shared-by-hardlink');
  });

  it('matches what umoci unpacks from the same layers', async () => {
    const layout = join(work, 'oci');
    execFileSync('umoci', ['init', '--layout', layout]);
    execFileSync('umoci', ['new', '--image', `${layout}:t`]);
    for (const l of [l1, l2, l3]) execFileSync('umoci', ['raw', 'add-layer', '--image', `${layout}:t`, l]);
    const bundle = join(work, 'bundle');
    execFileSync('umoci', ['unpack', '--image', `${layout}:t`, bundle]);
    const index = JSON.parse(readFileSync(join(layout, 'index.json'), 'utf8'));
    const blob = (d: string) => join(layout, 'blobs', ...d.split(':'));
    const manifest = JSON.parse(readFileSync(blob(index.manifests[0].digest), 'utf8'));
    const layers = manifest.layers.map((l: { digest: string; mediaType: string }) => {
      assert.match(l.mediaType, /gzip/);
      return { id: l.digest, open: file(blob(l.digest)) };
    });
    const fromLayers = await rootfsFromLayers(layers, { keep });
    const fromDir = rootfsFromDir(join(bundle, 'rootfs'));
    assert.deepEqual(walk(fromLayers), walk(fromDir));
    assert.equal(fromDir.readFile('/etc/escape')?.toString(), OS2);
  });

  it('fails clearly on a blob that is not a tar, a truncated gzip, ".." paths and a too-broad rule', async () => {
    const bad = (e: unknown, code: string, re: RegExp) =>
      isCogtsError(e) && e.code === code && re.test(e.message);
    await assert.rejects(
      rootfsFromLayers([{ id: 'sha256:junk', open: () => Readable.from([Buffer.alloc(2048, 0x41)]) }]),
      (e) => bad(e, 'E_LAYER_READ', /sha256:junk/),
    );
    const gz = readFileSync(`${l2}.gz`);
    await assert.rejects(rootfsFromLayers([() => Readable.from([gz.subarray(0, gz.length - 40)])]), (e) =>
      bad(e, 'E_LAYER_READ', /layer 0/),
    );
    const evil = join(work, 'evil.tar');
    execFileSync('python3', [
      '-c',
      `import tarfile,io\nt=tarfile.open('${evil}','w')\ni=tarfile.TarInfo('../../etc/x');i.size=1\nt.addfile(i,io.BytesIO(b'x'))\nt.close()`,
    ]);
    await assert.rejects(rootfsFromLayers([file(evil)]), (e) => bad(e, 'E_LAYER_PATH', /\.\.\/\.\.\/etc\/x/));
    await assert.rejects(rootfsFromLayers([file(l1)], { keep: () => true, maxKeptBytes: 1000 }), (e) =>
      bad(e, 'E_ROOTFS_KEEP_LIMIT', /1000 bytes/),
    );
  });
});
