import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { codeEntries } from '../../src/sources/code.js';

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cogts-code-'));
  mkdirSync(join(dir, 'pkg', 'data'), { recursive: true });
  mkdirSync(join(dir, '.git', 'objects'), { recursive: true });
  mkdirSync(join(dir, 'outputs'));
  writeFileSync(join(dir, 'predict.py'), 'x');
  writeFileSync(join(dir, 'pkg', 'a.py'), 'a');
  writeFileSync(join(dir, 'pkg', 'data', 'keep.log'), 'k');
  writeFileSync(join(dir, 'pkg', 'data', 'drop.log'), 'd');
  writeFileSync(join(dir, 'outputs', 'o.png'), 'o');
  writeFileSync(join(dir, '.git', 'config'), 'c');
  writeFileSync(join(dir, '.dockerignore'), 'outputs\n*.log\n');
  writeFileSync(join(dir, '.cogignore'), '!pkg/data/keep.log\n');
  linkSync(join(dir, 'pkg', 'a.py'), join(dir, 'pkg', 'b.py'));
  symlinkSync(join(dir, 'predict.py'), join(dir, 'pkg', 'abs-inside.py'));
  return dir;
}

test('code source: /src with .dockerignore + .cogignore (gitignore semantics, later negation wins), no .git', async () => {
  const dir = project();
  try {
    const entries = await codeEntries(dir);
    const paths = entries.map((e) => `${e.type}:${e.path}`).sort();
    assert.deepEqual(paths, [
      'dir:/src',
      'dir:/src/pkg',
      'dir:/src/pkg/data',
      'file:/src/.cogignore',
      'file:/src/.dockerignore',
      'file:/src/pkg/a.py',
      'file:/src/pkg/data/keep.log',
      'file:/src/predict.py',
      'hardlink:/src/pkg/b.py',
      'symlink:/src/pkg/abs-inside.py',
    ]);
    const link = entries.find((e) => e.path === '/src/pkg/abs-inside.py');
    assert.equal(
      link?.type === 'symlink' && link.target,
      '../predict.py',
      'absolute link into the project made relative',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('code source: links leaving the project and special files are all reported by path', async () => {
  const dir = project();
  try {
    symlinkSync('/etc/passwd', join(dir, 'passwd'));
    symlinkSync('../../outside', join(dir, 'pkg', 'up'));
    execFileSync('mkfifo', [join(dir, 'pipe')]);
    await assert.rejects(codeEntries(dir), (e: Error & { code?: string; hint?: string }) => {
      assert.equal(e.code, 'E_CODE_FILES');
      assert.match(e.message, /3 file\(s\)/);
      assert.match(e.message, /passwd: symlink to \/etc\/passwd points outside the project/);
      assert.match(e.message, /pkg\/up: symlink to \.\.\/\.\.\/outside points outside/);
      assert.match(e.message, /pipe: not a regular file/);
      assert.match(e.hint ?? '', /\.cogignore/);
      return true;
    });
    writeFileSync(join(dir, '.cogignore'), 'passwd\npkg/up\npipe\n');
    await codeEntries(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
