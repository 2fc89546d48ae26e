import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  detectImage,
  findPython,
  glibcVersionFromBanner,
  parseOsRelease,
  rootfsFromDir,
  rootfsFromLayers,
} from '../../src/rootfs/index.js';
import { debootstrapBase } from '../helpers/debootstrap.js';

const work = mkdtempSync(join(tmpdir(), 'cogts-detect-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** A layer streamed straight out of GNU tar: nothing of the debootstrap tree is copied or held. */
const tarStream =
  (dir: string, args: string[] = ['.']) =>
  () =>
    spawn('tar', ['--numeric-owner', '-C', dir, '-c', ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
      .stdout;

function put(root: string, rel: string, data: string | Buffer = ''): void {
  const p = join(root, rel);
  mkdirSync(dirname(p), { recursive: true });
  writeFileSync(p, data);
}

/** What the host's own tools say, to compare with what detection reads from files. */
const hostGlibc = execFileSync('ldd', ['--version'], { encoding: 'utf8' }).match(/(\d+\.\d+)\s*$/m)?.[1];

describe('detection', () => {
  it('reads the host root: os-release, glibc (as ldd reports it), architecture, the Debian python3', () => {
    const facts = detectImage(rootfsFromDir('/'));
    const os = parseOsRelease(execFileSync('cat', ['/etc/os-release'], { encoding: 'utf8' }));
    assert.equal(facts.os?.id, os.ID);
    assert.equal(facts.os?.versionId, os.VERSION_ID);
    assert.equal(facts.libc?.kind, 'glibc');
    assert.equal(facts.libc?.version, hostGlibc);
    const arch = execFileSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).trim();
    assert.equal(facts.architecture, arch);
    const sysPy = execFileSync(
      '/usr/bin/python3',
      ['-c', 'import sys; print(sys.version_info[0], sys.version_info[1])'],
      { encoding: 'utf8' },
    )
      .trim()
      .replace(' ', '.');
    assert.equal(findPython(rootfsFromDir('/'), sysPy)?.stdlib, `/usr/lib/python${sysPy}`);
  });

  it('finds Debian python3.11 in a debootstrap tree, the same from the directory and from its layers', async () => {
    const rootfs = debootstrapBase({ suite: 'bookworm', include: ['python3'] });
    const fromDir = detectImage(rootfsFromDir(rootfs));
    assert.equal(fromDir.os?.codename, 'bookworm');
    assert.equal(fromDir.libc?.source, 'banner');
    const py = findPython(rootfsFromDir(rootfs), '3.11');
    assert.ok(py, 'python3.11 found');
    assert.equal(py.path, '/usr/bin/python3.11');
    assert.equal(py.stdlib, '/usr/lib/python3.11');
    assert.equal(py.layout, 'debian');
    assert.equal(py.sitePackages, '/usr/local/lib/python3.11/dist-packages');
    // The patch level comes from the dpkg database; check it against the interpreter itself.
    const real = execFileSync(
      'chroot',
      [rootfs, '/usr/bin/python3.11', '-c', 'import platform; print(platform.python_version())'],
      { encoding: 'utf8' },
    ).trim();
    assert.equal(py.version, real);
    assert.equal(findPython(rootfsFromDir(rootfs), '3.12'), undefined);

    // The same facts from a layer stream, with only the default content kept.
    const layered = await rootfsFromLayers([tarStream(rootfs)]);
    assert.deepEqual(detectImage(layered), fromDir);

    // A second layer that whites the interpreter out: the image no longer has Python 3.11.
    const wh = join(work, 'wh');
    put(wh, 'usr/bin/.wh.python3.11');
    const hidden = await rootfsFromLayers([tarStream(rootfs), tarStream(wh)]);
    assert.equal(findPython(hidden, '3.11'), undefined);
  });

  it('reads upstream-layout Pythons (official images, conda, /opt/python), musl and pre-2.34 glibc names', async () => {
    const d = join(work, 'up');
    put(d, 'etc/os-release', 'NAME="Alpine Linux"\nID=alpine\nVERSION_ID=3.20.3\n');
    put(d, 'lib/apk/db/installed', 'C:Q1abc=\nP:musl\nV:1.2.5-r0\nA:x86_64\n\nP:busybox\nV:1.36.1-r29\n');
    put(
      d,
      'lib/ld-musl-x86_64.so.1',
      Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 0, 0x3e, 0]),
    );
    put(d, 'usr/local/bin/python3.12');
    put(d, 'usr/local/lib/python3.12/os.py');
    put(d, 'usr/local/lib/python3.12/site.py', 'ENABLE_USER_SITE = None\n# site-packages only\n');
    put(d, 'usr/local/include/python3.12/patchlevel.h', '#define PY_VERSION              "3.12.7"\n');
    put(d, 'opt/conda/bin/python3.10');
    put(d, 'opt/conda/lib/python3.10/os.py');
    put(d, 'opt/python/bin/python3.9');
    mkdirSync(join(d, 'usr/bin'), { recursive: true });
    symlinkSync('/opt/conda/bin/python3.10', join(d, 'usr/bin/python3.10'));
    const view = await rootfsFromLayers([tarStream(d)]);
    const facts = detectImage(view);
    assert.deepEqual(facts.libc, {
      kind: 'musl',
      path: '/lib/ld-musl-x86_64.so.1',
      version: '1.2.5',
      source: 'apk',
    });
    assert.equal(facts.architecture, 'amd64');
    assert.deepEqual(
      facts.pythons.map((p) => [p.path, p.version, p.sitePackages]),
      [
        ['/usr/local/bin/python3.12', '3.12.7', '/usr/local/lib/python3.12/site-packages'],
        ['/usr/bin/python3.10', '3.10', '/opt/conda/lib/python3.10/site-packages'],
      ],
      'the stdlib-less /opt/python/bin/python3.9 is not an interpreter; conda is found once, via its first path',
    );
    assert.equal(findPython(view, '3.12.7')?.prefix, '/usr/local');
    assert.equal(findPython(view, '3.12.6'), undefined);

    const old = join(work, 'old');
    put(old, 'lib/x86_64-linux-gnu/libc-2.31.so', 'not really');
    symlinkSync('libc-2.31.so', join(old, 'lib/x86_64-linux-gnu/libc.so.6'));
    const oldFacts = detectImage(await rootfsFromLayers([tarStream(old)]));
    assert.deepEqual(oldFacts.libc, {
      kind: 'glibc',
      version: '2.31',
      path: '/lib/x86_64-linux-gnu/libc-2.31.so',
      source: 'file-name',
    });
  });

  it('parses the glibc banner', () => {
    const b = Buffer.from(
      '\0\0GNU C Library (Ubuntu GLIBC 2.35-0ubuntu3.8) stable release version 2.35.\nCopyright',
    );
    assert.equal(glibcVersionFromBanner(b), '2.35');
    assert.equal(glibcVersionFromBanner(Buffer.from('nothing here')), undefined);
  });
});
