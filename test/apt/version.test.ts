import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseStanzas } from '../../src/apt/deb822.js';
import { compareVersions, satisfiesVersion } from '../../src/apt/version.js';

// Hand-picked corners of deb-version(7): tildes, epochs, letters vs punctuation, leading zeros.
const corners = [
  '1.0~rc1',
  '1.0',
  '1.0~',
  '1.0~~',
  '1.0+',
  '1.0a',
  '1.0.',
  '1:0.9',
  '0:1.0',
  '1.0-1',
  '1.0-1~bpo1',
  '1.0-0',
  '1.00',
  '01.0',
  '2.0-1+deb12u1',
  '2.0-1+b1',
  '2.0-1.1',
  '9',
  '10',
  '1.0-a',
  '1.0-A',
  '1.0-+',
  '1.2.3-4ubuntu0.1',
  '1.2.3-4build1',
  '7:5.1.6-0+deb12u1',
  '7:4.4.2-0ubuntu0.22.04.1',
  '2.36-9+deb12u4',
  '1.0~beta1~svn1245',
  '1.0~beta1',
  'a',
  'A',
  '1~',
  '1-~',
  '1.0-1~',
  '3.11.2-6+deb12u6',
];

/**
 * Real archive versions: this machine's apt lists (the Debian Packages indexes apt-get update
 * fetched; apt-helper decompresses its lz4/zstd copies), plus its own dpkg database.
 */
function realVersions(): string[] {
  let text = readFileSync('/var/lib/dpkg/status', 'utf8');
  try {
    const dir = '/var/lib/apt/lists';
    const lists = readdirSync(dir)
      .filter((n) => /_Packages(\.\w+)?$/.test(n))
      .sort((a, b) => statSync(join(dir, b)).size - statSync(join(dir, a)).size);
    // The largest index (the main archive): tens of thousands of real versions.
    for (const n of lists.slice(0, 1))
      text += `\n\n${execFileSync('/usr/lib/apt/apt-helper', ['cat-file', `/var/lib/apt/lists/${n}`], { maxBuffer: 256 << 20 }).toString()}`;
  } catch {
    // No apt lists on this machine: the dpkg database alone still gives a few hundred versions.
  }
  const vs = parseStanzas(text)
    .map((s) => s.get('Version'))
    .filter((v): v is string => !!v);
  return [...new Set(vs)];
}

test('compareVersions agrees with dpkg --compare-versions on >= 200 pairs', () => {
  const real = realVersions();
  const pool = [...corners, ...real];
  // A fixed linear congruential sequence: the same pairs every run, mixing corners with real versions.
  let seed = 12345;
  const next = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed;
  };
  const pairs: [string, string][] = [];
  for (let i = 0; i < corners.length; i++)
    for (let j = i + 1; j < corners.length; j += 3) pairs.push([corners[i]!, corners[j]!]);
  while (pairs.length < 250) pairs.push([pool[next() % pool.length]!, pool[next() % pool.length]!]);
  // Near neighbours in real data are the interesting pairs (same package family, small bumps).
  const sorted = [...real].sort();
  const stride = Math.max(1, Math.floor(sorted.length / 300));
  for (let i = 0; i + 1 < sorted.length; i += stride) pairs.push([sorted[i]!, sorted[i + 1]!]);
  assert.ok(pairs.length >= 200);
  const mismatches: string[] = [];
  for (const [a, b] of pairs) {
    const ours = Math.sign(compareVersions(a, b));
    let dpkg = 0;
    for (const [op, val] of [
      ['lt', -1],
      ['gt', 1],
    ] as const) {
      try {
        execFileSync('dpkg', ['--compare-versions', a, op, b], { stdio: 'ignore' });
        dpkg = val;
      } catch {}
    }
    if (ours !== dpkg) mismatches.push(`${a} vs ${b}: ours ${ours}, dpkg ${dpkg}`);
  }
  assert.deepEqual(mismatches, [], `${mismatches.length} of ${pairs.length} pairs differ`);
  console.log(`${pairs.length} pairs from ${real.length} real versions agree with dpkg --compare-versions`);
});

test('satisfiesVersion operators', () => {
  assert.ok(satisfiesVersion('1.0', '>=', '1.0~rc1'));
  assert.ok(satisfiesVersion('1:0.1', '>>', '9.9'));
  assert.ok(!satisfiesVersion('1.0~rc1', '>=', '1.0'));
  assert.ok(satisfiesVersion('2.0-1', '=', '2.0-1'));
  assert.ok(satisfiesVersion('2.0-1', '<<', '2.0-1+b1'));
  assert.ok(satisfiesVersion('2.0', '<=', '2.0'));
});
