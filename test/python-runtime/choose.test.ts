import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { isCogtsError } from '../../src/errors.js';
import { rootfsFromDir } from '../../src/rootfs/index.js';
import { baseProvider, choosePythonProvider } from '../../src/sources/python/index.js';
import { debootstrapBase } from '../helpers/debootstrap.js';

const work = mkdtempSync(join(tmpdir(), 'cogts-choose-'));
after(() => rmSync(work, { recursive: true, force: true }));
const code = (c: string) => (e: unknown) => isCogtsError(e) && e.code === c;

describe('choosePythonProvider', () => {
  it('uses the base image Python when it has the version, standalone when not, apt when asked', () => {
    const withPy = rootfsFromDir(debootstrapBase({ suite: 'bookworm', include: ['python3'] }));
    const minbase = rootfsFromDir(debootstrapBase({ suite: 'bookworm' }));
    assert.deepEqual(choosePythonProvider(withPy, '3.11'), {
      kind: 'base',
      reason: 'base image has /usr/bin/python3.11 (3.11.2)',
    });
    assert.equal(choosePythonProvider(withPy, '3.12').kind, 'standalone');
    assert.deepEqual(choosePythonProvider(minbase, '3.11'), {
      kind: 'standalone',
      reason: 'base image has no Python 3.11',
    });
    assert.equal(choosePythonProvider(minbase, '3.11', 'apt').kind, 'apt');
    assert.equal(choosePythonProvider(withPy, '3.11', 'standalone').kind, 'standalone');
    assert.throws(() => choosePythonProvider(minbase, '3.11', 'base'), code('E_PYTHON_BASE'));

    const rt = baseProvider(withPy, '3.11');
    assert.deepEqual(rt.entries, []);
    assert.equal(rt.sitePackages, '/usr/local/lib/python3.11/dist-packages');
    // Debian's interpreter really does put that directory on sys.path once it exists.
    const root = debootstrapBase({ suite: 'bookworm', include: ['python3'] });
    const sysPath = execFileSync(
      'chroot',
      [root, rt.interpreter, '-c', 'import site, sys; print(site.getsitepackages())'],
      { encoding: 'utf8' },
    );
    assert.ok(sysPath.includes(rt.sitePackages), sysPath);
  });

  it('refuses standalone on musl and names why', () => {
    const d = join(work, 'alpine');
    mkdirSync(join(d, 'lib'), { recursive: true });
    writeFileSync(join(d, 'lib/ld-musl-x86_64.so.1'), '');
    const view = rootfsFromDir(d);
    assert.throws(
      () => choosePythonProvider(view, '3.11'),
      (e: unknown) => code('E_PYTHON_NONE')(e) && /musl/.test((e as Error).message),
    );
    assert.throws(() => choosePythonProvider(view, '3.11', 'standalone'), code('E_PYTHON_STANDALONE'));
  });
});
