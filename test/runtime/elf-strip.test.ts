import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { stripElf } from '../../src/sources/elf-strip.js';

const sections = (file: string) => execFileSync('readelf', ['-S', '--wide', file], { encoding: 'utf8' });

test('symbols and DWARF go; the program still runs and the loaded bytes are unchanged', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cogts-elf-'));
  try {
    writeFileSync(
      join(dir, 'p.c'),
      '#include <stdio.h>\nint twice(int x){return 2*x;}\nint main(){printf("%d\\n", twice(21));return 0;}\n',
    );
    execFileSync('cc', ['-g', '-O1', '-o', join(dir, 'p'), join(dir, 'p.c')]);
    const input = readFileSync(join(dir, 'p'));
    assert.match(sections(join(dir, 'p')), /\.symtab/);
    const out = stripElf(input);
    assert.ok(out.length < input.length);
    writeFileSync(join(dir, 'q'), out, { mode: 0o755 });
    assert.equal(spawnSync(join(dir, 'q'), { encoding: 'utf8' }).stdout, '42\n');
    const s = sections(join(dir, 'q'));
    assert.doesNotMatch(s, /\.symtab|\.strtab|\.debug_/);
    assert.match(s, /\.dynsym/);
    assert.deepEqual(stripElf(out), out, 'stripping twice changes nothing');
    // readelf finds no inconsistency (it warns on stderr about bad offsets or sizes).
    const check = spawnSync('readelf', ['-a', '--wide', join(dir, 'q')], { encoding: 'utf8' });
    assert.equal(check.stderr, '');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('anything that is not a 64-bit little-endian ELF comes back unchanged', () => {
  const text = Buffer.from('#!/bin/sh\necho hi\n');
  assert.equal(stripElf(text), text);
  const truncated = readFileSync(process.execPath).subarray(0, 4096);
  assert.equal(stripElf(truncated), truncated);
});
