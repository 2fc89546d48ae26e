import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { parseStanzas } from '../../src/apt/deb822.js';
import { casPath } from '../../src/apt/fetch.js';
import { type AptResolution, dirRootfsView, formatReport, installApt, planApt } from '../../src/apt/index.js';
import { CogtsError } from '../../src/errors.js';
import { debootstrapBase, testCacheRoot } from '../helpers/debootstrap.js';
import { applyEntries } from './extract.js';
import { serve } from './localrepo.js';

// Against the real Debian archive named by this machine's apt configuration. Downloads are cached
// under /var/cache/cogts-test so a second run only re-fetches InRelease.
const cacheDir = join(testCacheRoot, 'apt-cache');
const wanted = ['libgl1', 'ffmpeg', 'python3.11'];
let base: string;
let work: string;
let res: AptResolution;

function sh(args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): string {
  return execFileSync(args[0]!, args.slice(1), {
    env: { ...process.env, LC_ALL: 'C', ...opts.env },
    maxBuffer: 64 << 20,
  }).toString();
}

before(() => {
  base = debootstrapBase({ suite: 'bookworm', variant: 'minbase' });
  work = join(tmpdir(), `cogts-apt-e2e-${process.pid}`);
  mkdirSync(work, { recursive: true });
});
after(() => rmSync(work, { recursive: true, force: true }));

/** Groups paths made by byte-compiling, the MIME database and font caches into one line each. */
function summarise(paths: string[], sign: string): string[] {
  const groups = new Map<string, number>();
  for (const p of paths) {
    const m = /^(.*?\/__pycache__|\/usr\/share\/mime|\/var\/cache\/fontconfig)(\/|$)/.exec(p);
    const key = m
      ? `${m[1]!.replace(/\/usr\/lib\/python3\.\d+\/.*\/__pycache__$/, '/usr/lib/python3.*/**/__pycache__')}/…`
      : p;
    groups.set(key, (groups.get(key) ?? 0) + 1);
  }
  return [...groups].map(([k, n]) => `  ${sign} ${k}${n > 1 ? ` (${n} paths)` : ''}`);
}

/** Every path below root (minus volatile places) → type + content digest. */
function tree(root: string): Map<string, string> {
  const skip =
    /^\/(proc|sys|dev|tmp|run|var\/cache\/apt|var\/lib\/apt\/lists|var\/log|var\/cache\/debconf|etc\/resolv\.conf)(\/|$)/;
  const out = new Map<string, string>();
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel))) {
      const p = `${rel}/${name}`;
      if (skip.test(p)) continue;
      const st = lstatSync(join(root, p));
      if (st.isSymbolicLink()) out.set(p, `link:${readlinkSync(join(root, p))}`);
      else if (st.isDirectory()) {
        out.set(p, 'dir');
        walk(p);
      } else
        out.set(
          p,
          `file:${createHash('sha256')
            .update(readFileSync(join(root, p)))
            .digest('hex')
            .slice(0, 16)}`,
        );
    }
  };
  walk('');
  return out;
}

test('resolve + install [libgl1, ffmpeg] and python3.11 from the real archive; the chroot runs them', {
  timeout: 900_000,
}, async () => {
  const view = dirRootfsView(base);
  res = await planApt({ base: view, packages: wanted, cacheDir });
  assert.ok(res.packages.length > 100, `${res.packages.length} packages`);
  const { entries, report } = await installApt(res, view, { cacheDir });
  console.log(formatReport(report).join('\n'));
  const ours = join(work, 'ours');
  sh(['cp', '-a', base, ours]);
  await applyEntries(ours, entries);
  assert.match(sh(['chroot', ours, 'ffmpeg', '-version']), /^ffmpeg version /);
  assert.equal(
    sh(['chroot', ours, 'python3.11', '-c', 'import ssl, sqlite3, ctypes; print("ok")']).trim(),
    'ok',
  );
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own ${field} format syntax.
  const format = ['${Package}', '${db:Status-Abbrev}'].join(' ');
  const listed = sh(['chroot', ours, 'dpkg-query', '-W', '-f', `${format}\n`]);
  for (const p of res.packages)
    assert.match(listed, new RegExp(`^${p.name.replace(/[+.]/g, '\\$&')} ii `, 'm'), `${p.name} in dpkg -l`);
  assert.equal(
    sh(['chroot', ours, 'dpkg', '--verify']),
    '',
    'dpkg --verify finds every file as its md5sums say',
  );
  // Our ld.so.cache holds exactly what a real ldconfig run over the same tree would write.
  const ldOurs = sh(['chroot', ours, 'ldconfig', '-p'])
    .split('\n')
    .filter((l) => l.includes('=>'))
    .sort();
  const ldRef = join(work, 'ldref');
  sh(['cp', '-a', ours, ldRef]);
  sh(['chroot', ldRef, 'ldconfig']);
  const ldReal = sh(['chroot', ldRef, 'ldconfig', '-p'])
    .split('\n')
    .filter((l) => l.includes('=>'))
    .sort();
  rmSync(ldRef, { recursive: true, force: true });
  assert.deepEqual(ldOurs, ldReal);
});

test('same file set as apt-get install --no-install-recommends in a chroot (differences: maintainer scripts)', {
  timeout: 900_000,
}, async () => {
  assert.ok(res, 'needs the previous test');
  const ref = join(work, 'apt');
  sh(['cp', '-a', base, ref]);
  copyFileSync('/etc/resolv.conf', join(ref, 'etc/resolv.conf'));
  // Seed apt's archive cache with the .debs we verified (apt re-checks their hashes) to save a download.
  for (const p of res.packages)
    copyFileSync(
      casPath(cacheDir, p.sha256),
      join(ref, 'var/cache/apt/archives', `${p.name}_${p.version.replace(':', '%3a')}_${p.arch}.deb`),
    );
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  sh(['chroot', ref, 'apt-get', 'update', '-qq'], { env });
  const sim = sh(['chroot', ref, 'apt-get', 'install', '-s', '--no-install-recommends', ...wanted], { env });
  const aptSet = sim
    .split('\n')
    .filter((l) => l.startsWith('Inst '))
    .map((l) => l.split(' ')[1]!)
    .sort();
  assert.deepEqual(
    res.packages.map((p) => p.name),
    aptSet,
    'the same packages as apt chooses',
  );
  sh(['chroot', ref, 'apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...wanted], { env });
  const ours = tree(join(work, 'ours'));
  const theirs = tree(ref);
  const owned = new Set<string>();
  for (const p of res.packages) {
    const ma = readdirSync(join(ref, 'var/lib/dpkg/info')).find(
      (f) => f === `${p.name}.list` || f === `${p.name}:${p.arch}.list`,
    );
    for (const l of readFileSync(join(ref, 'var/lib/dpkg/info', ma!), 'utf8').split('\n'))
      if (l && l !== '/.') owned.add(l);
  }
  const onlyApt = [...theirs.keys()].filter((p) => !ours.has(p)).sort();
  const onlyOurs = [...ours.keys()].filter((p) => !theirs.has(p)).sort();
  const differ = [...ours.keys()].filter((p) => theirs.has(p) && theirs.get(p) !== ours.get(p)).sort();
  const report = [
    `only after apt-get (${onlyApt.length}):`,
    ...summarise(onlyApt, '+'),
    `only in cogts layer (${onlyOurs.length}):`,
    ...summarise(onlyOurs, '-'),
    `content differs (${differ.length}):`,
    ...summarise(differ, '~'),
  ];
  // The dpkg database must say the same about every package, field by field (order aside).
  const stanzas = (root: string) =>
    new Map(
      parseStanzas(readFileSync(join(root, 'var/lib/dpkg/status'), 'utf8')).map((st) => [
        st.get('Package'),
        st,
      ]),
    );
  const a = stanzas(ref);
  const o = stanzas(join(work, 'ours'));
  const fieldDiffs: string[] = [];
  for (const [name, st] of a) {
    const mine = o.get(name);
    if (!mine) fieldDiffs.push(`${name}: missing from our status`);
    else
      for (const [k, v] of st)
        if (mine.get(k) !== v)
          fieldDiffs.push(`${name} ${k}: apt ${JSON.stringify(v)}, ours ${JSON.stringify(mine.get(k))}`);
  }
  report.push(`dpkg status field differences (${fieldDiffs.length}):`, ...fieldDiffs.map((d) => `  ${d}`));
  console.log(report.join('\n'));
  writeFileSync(join(testCacheRoot, 'apt-e2e-difference.txt'), `${report.join('\n')}\n`);
  // Files the packages ship must match exactly; only files made by maintainer scripts may differ.
  const shipped = (p: string) => owned.has(p) && theirs.get(p) !== 'dir';
  assert.deepEqual(onlyApt.filter(shipped), [], 'package files missing from our layer');
  assert.deepEqual(
    differ.filter((p) => owned.has(p) && !p.startsWith('/etc/alternatives')),
    [],
    'package files with other content',
  );
  assert.deepEqual(fieldDiffs, [], 'dpkg status differs');
});

test('a tampered copy of the real InRelease, served on 127.0.0.1 through --apt-mirror, is refused', async () => {
  const mirror = execFileSync('sh', [
    '-c',
    "grep -h '^deb ' " + join(base, 'etc/apt/sources.list') + " | head -1 | awk '{print $2}'",
  ])
    .toString()
    .trim();
  const real = Buffer.from(await (await fetch(`${mirror}/dists/bookworm/InRelease`)).arrayBuffer());
  const path = `${new URL(mirror).pathname.replace(/\/$/, '')}/dists/bookworm/InRelease`;
  // Flip one hex digit of the first SHA256 line: the signed text changes (whitespace would not).
  const tampered = Buffer.from(
    real
      .toString('utf8')
      .replace(/^(SHA256:\n )([0-9a-f])/m, (_m, pre: string, c: string) => pre + (c === '0' ? '1' : '0')),
  );
  assert.notDeepEqual(tampered, real);
  for (const [body, re] of [
    [tampered, /bad or untrusted signature/],
    [
      Buffer.from(
        real
          .toString('utf8')
          .replace(/^[\s\S]*?\n\n/, '')
          .replace(/-----BEGIN PGP SIGNATURE-----[\s\S]*$/, ''),
      ),
      /not an OpenPGP clear-signed file/,
    ],
  ] as const) {
    const s = await serve(work, new Map([[path, body]]));
    try {
      await assert.rejects(
        planApt({ base: dirRootfsView(base), packages: ['ffmpeg'], cacheDir, mirrors: [s.url] }),
        (e: unknown) => e instanceof CogtsError && e.code === 'E_APT_SIGNATURE' && re.test(e.message),
      );
    } finally {
      s.server.close();
    }
  }
});
