/**
 * Build-performance benchmarks (issue 8), side by side on one local registry, written into this
 * script's section of bench/RESULTS.md (between its markers; other sections are left alone):
 *   1. cold build+push of a ~1 GB synthetic model (code + 600 MB weights + a ~200 MB wheel) vs
 *      `umoci insert` + `skopeo copy` of the same files;
 *   2. warm rebuild+push after a one-line code change (bytes uploaded, time);
 *   3. a fresh cache folder with --cache-from (layers rebuilt: must be 0);
 *   4. compression throughput on this machine's cores: cogts ParallelGzip vs gzip and pigz;
 *   5. peak RSS of building one 3 GiB layer.
 * Every measurement is a fresh process; medians over `runs`.
 *
 *   npm run build && npx tsc -p tsconfig.json --outDir dist-h && cp -r dist/runtime dist-h/ &&
 *     cp dist/src/cli/cogts.mjs dist-h/src/cli/ && node dist-h/bench/run-all.js [runs=3] [--no-write]
 *   --cold-only: only the cold build vs umoci+skopeo; --env-only: start the registry, base and index,
 *   print a build command and wait (for profiling by hand). BENCH_NODE_ARGS: flags for the builds' node.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  cpSync,
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { buildLayer } from '../src/layer/build.js';
import { type CompressionAlgorithm, compressionFor, createCompressor } from '../src/layer/compression.js';
import { DEFAULT_GZIP } from '../src/layer/gzip.js';
import { imageLayoutFromRootfs, pushImage } from '../test/helpers/base-image.js';
import { testCacheDir } from '../test/helpers/cache.js';
import { debootstrapBase } from '../test/helpers/debootstrap.js';
import { cogtsBin, repoRoot } from '../test/helpers/paths.js';
import { startPyIndex } from '../test/helpers/pyindex.js';
import { startRegistry } from '../test/helpers/registry.js';
import { runCollect } from '../test/helpers/spawn.js';

const self = fileURLToPath(import.meta.url);
const MB = 1 << 20;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** Child: compress a file as a cogts layer would (gzip or zstd at `level`), count the output. Prints "ms bytes". */
async function compressChild(file: string, algorithm: CompressionAlgorithm, level: number): Promise<void> {
  const t0 = performance.now();
  let bytes = 0;
  await pipeline(
    createReadStream(file, { highWaterMark: MB }),
    createCompressor(compressionFor({ algorithm, level })),
    new Writable({
      write: (c: Buffer, _e, cb) => {
        bytes += c.length;
        cb();
      },
    }),
  );
  process.stdout.write(`${Math.round(performance.now() - t0)} ${bytes}\n`);
  // The zstd worker pool keeps the process alive until told otherwise.
  process.exit(0);
}

/** Child: one layer of `gib` GiB (1 MiB random and 1 MiB text, alternating), streamed from memory. */
async function rssChild(gib: number, blobDir: string): Promise<void> {
  const rnd = randomBytes(MB);
  const txt = Buffer.alloc(MB, 'def predict(self, x):\n    return x * 2\n');
  const size = gib * 1024 * MB;
  const open = () =>
    Readable.from(
      (function* () {
        for (let i = 0; i < size / MB; i++) yield i % 2 ? txt : rnd;
      })(),
    );
  const t0 = performance.now();
  const layer = await buildLayer([{ type: 'file', path: '/weights/big.bin', size, open }], { blobDir });
  process.stdout.write(`${Math.round(performance.now() - t0)} ${layer.size}\n`);
}

/** Runs a command (without blocking: the package index the builds use is served from here); fails on a non-zero exit. */
async function timed(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<{ ms: number; stdout: string; stderr: string }> {
  const r = await runCollect(cmd, args, opts);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.stderr}`);
  return r;
}

/** A wheel of ~`mb` MB (half random, half text; files stored, like most big wheels) made with Python's zipfile. */
function makeWheel(dir: string, mb: number): string {
  const script = `
import base64, hashlib, os, sys, zipfile
out, mb = sys.argv[1], int(sys.argv[2])
name = 'benchdata-1.0-py3-none-any.whl'
files = {'benchdata/__init__.py': b'VERSION = "1.0"\\n'}
for i in range(mb // 8):
    files[f'benchdata/data/part{i}.bin'] = os.urandom(4 << 20) + (b'weights and text ' * 300000)[: 4 << 20]
files['benchdata-1.0.dist-info/METADATA'] = b'Metadata-Version: 2.1\\nName: benchdata\\nVersion: 1.0\\n'
files['benchdata-1.0.dist-info/WHEEL'] = b'Wheel-Version: 1.0\\nGenerator: bench\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n'
rec = ''
for p, d in files.items():
    h = base64.urlsafe_b64encode(hashlib.sha256(d).digest()).rstrip(b'=').decode()
    rec += f'{p},sha256={h},{len(d)}\\n'
rec += 'benchdata-1.0.dist-info/RECORD,,\\n'
files['benchdata-1.0.dist-info/RECORD'] = rec.encode()
with zipfile.ZipFile(os.path.join(out, name), 'w', zipfile.ZIP_STORED) as z:
    for p, d in files.items():
        z.writestr(p, d)
print(name)
`;
  const r = spawnSync('python3', ['-c', script, dir, String(mb)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return join(dir, r.stdout.trim());
}

function writeModel(dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'cog.yaml'),
    'build:\n  python_version: "3.11"\n  python_packages:\n    - "benchdata==1.0"\npredict: "predict.py:Predictor"\n',
  );
  writeFileSync(
    join(dir, 'predict.py'),
    'from cog import BasePredictor\n\n\nclass Predictor(BasePredictor):\n    def predict(self, x: int) -> int:\n        return x + 0\n',
  );
  for (let i = 0; i < 50; i++) writeFileSync(join(dir, `mod${i}.py`), `# module ${i}\n`.repeat(100));
  // 600 MB of weights, written in 8 MiB random pieces.
  const fd = openSync(join(dir, 'weights.bin'), 'w');
  for (let i = 0; i < 75; i++) writeSync(fd, randomBytes(8 * MB));
  closeSync(fd);
}

async function main(): Promise<void> {
  if (process.argv[2] === '--compress-child')
    return compressChild(
      process.argv[3] as string,
      process.argv[4] as CompressionAlgorithm,
      Number(process.argv[5]),
    );
  if (process.argv[2] === '--rss-child') return rssChild(Number(process.argv[3]), process.argv[4] as string);
  const runs = Number(process.argv[2] ?? 3);
  const write = !process.argv.includes('--no-write');
  // Only the cold build vs umoci+skopeo (for profiling the cold path); nothing is written.
  const coldOnly = process.argv.includes('--cold-only');
  const started = new Date();
  const load0 = loadavg()[0] as number;
  const work = mkdtempSync(join(tmpdir(), 'cogts-bench-all-'));
  const reg = await startRegistry({});
  const wheels = join(work, 'wheels');
  mkdirSync(wheels);
  makeWheel(wheels, 200);
  const index = await startPyIndex({ dir: wheels, flavour: 'json', pep658: false });
  const lines: string[] = [];
  const out = (l = '') => {
    lines.push(l);
    process.stdout.write(`${l}\n`);
  };
  try {
    const rootfs = debootstrapBase({ suite: 'bookworm', variant: 'minbase', include: ['python3'] });
    const layout = imageLayoutFromRootfs(rootfs, [
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    ]);
    const base = `${reg.host}/bench/base:bookworm`;
    pushImage(layout, base);
    const project = join(work, 'model');
    writeModel(project);
    const sharedNode = join(testCacheDir('e2e-build'), 'node');
    let n = 0;
    const freshCache = () => {
      const d = join(work, `cache-${++n}`);
      mkdirSync(d);
      // The Node download is shared: "cold" means no layer cache, not re-fetching npm.
      if (existsSync(sharedNode)) symlinkSync(sharedNode, join(d, 'node'));
      return d;
    };
    const env = { ...process.env, SOURCE_DATE_EPOCH: '0' };
    const build = async (cache: string, ref: string, extra: string[] = []) => {
      const r = await timed(
        process.execPath,
        [
          // e.g. BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the builds
          ...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
          cogtsBin,
          'build',
          '--json',
          '--progress',
          'json',
          '--base-image',
          base,
          '--push',
          ref,
          '--cache-dir',
          cache,
          '--index-url',
          index.url,
          ...extra,
        ],
        { cwd: project, env },
      );
      // biome-ignore lint/suspicious/noExplicitAny: progress events, read field by field
      const events: any[] = r.stderr
        .trim()
        .split('\n')
        .flatMap((l) => {
          try {
            return [JSON.parse(l)];
          } catch {
            return [];
          }
        });
      return { ms: r.ms, json: JSON.parse(r.stdout), events };
    };
    if (process.argv.includes('--env-only')) {
      // Keeps the registry, base and index up and prints a cold build command, for profiling by hand.
      out(
        `cd ${project} && SOURCE_DATE_EPOCH=0 node ${cogtsBin} build --base-image ${base} --index-url ${index.url} --cache-dir $(mktemp -d) --push ${reg.host}/bench/manual:1`,
      );
      await new Promise((r) => process.once('SIGINT', r));
      return;
    }
    // Warm-up (not measured): fills the shared Node download, the page cache and the registry's base.
    await build(freshCache(), `${reg.host}/bench/warmup:1`);

    // The same files for umoci: the project at /src, the unpacked wheel in dist-packages, the runtime at /opt/cogts.
    const site = join(work, 'site');
    execFileSync('python3', ['-m', 'zipfile', '-e', join(wheels, readdirSync(wheels)[0] as string), site]);
    const runtime = join(work, 'runtime');
    mkdirSync(join(runtime, 'bin'), { recursive: true });
    const nodeDir = readdirSync(sharedNode).find((d) => d.endsWith('-stripped'));
    cpSync(join(sharedNode, nodeDir as string, 'node'), join(runtime, 'bin', 'node'));
    cpSync(join(repoRoot, 'dist', 'runtime', 'server.mjs'), join(runtime, 'server.mjs'));
    cpSync(join(repoRoot, 'src', 'python', 'cog'), join(runtime, 'python', 'cog'), { recursive: true });
    const umociOnce = (tag: string) => {
      const l = join(work, `layout-${tag}`);
      cpSync(layout.replace(/^oci:/, '').replace(/:base$/, ''), l, { recursive: true });
      const t0 = performance.now();
      for (const [src, dest] of [
        [site, '/usr/local/lib/python3.11/dist-packages'],
        [runtime, '/opt/cogts'],
        [project, '/src'],
      ] as const)
        execFileSync('umoci', ['insert', '--image', `${l}:base`, src, dest], {
          stdio: ['ignore', 'ignore', 'inherit'],
        });
      execFileSync(
        'skopeo',
        [
          'copy',
          '--quiet',
          '--dest-tls-verify=false',
          `oci:${l}:base`,
          `docker://${reg.host}/bench/umoci-${tag}:1`,
        ],
        {
          stdio: ['ignore', 'ignore', 'inherit'],
        },
      );
      const ms = Math.round(performance.now() - t0);
      rmSync(l, { recursive: true, force: true });
      return ms;
    };

    // 1 + 2: cold vs umoci+skopeo, then warm rebuilds on the cold run's cache.
    const cold: number[] = [];
    const umoci: number[] = [];
    const warm: number[] = [];
    const warmBytes: number[] = [];
    let codeSize = 0;
    let breakdown = '';
    let coldBytes = 0;
    let modelBytes = 0;
    for (let r = 0; r < runs; r++) {
      const cache = freshCache();
      const c = await build(cache, `${reg.host}/bench/cold-${r}:1`);
      cold.push(c.ms);
      if (r === 0) {
        const t0 = c.events[0]?.time ?? 0;
        if (process.env.BENCH_TRACE)
          for (const e of c.events)
            if (e.type !== 'bytes')
              process.stderr.write(`+${e.time - t0} ${JSON.stringify(e).slice(0, 160)}\n`);
        breakdown = c.events
          .filter(
            (e) =>
              (e.type === 'layer' && e.status !== 'start') || (e.type === 'phase' && e.status === 'done'),
          )
          .map((e) =>
            e.type === 'layer'
              ? `${e.id} ${e.status} ${fmt(e.ms)}`
              : `${e.phase} done at +${fmt(e.time - t0)}`,
          )
          .join('; ');
      }
      coldBytes = c.json.upload.bytesUploaded;
      modelBytes = c.json.layers.reduce((s: number, l: { size: number }) => s + l.size, 0);
      umoci.push(umociOnce(`${r}`));
      if (coldOnly) {
        out(`cold ${fmt(c.ms)} vs umoci+skopeo ${fmt(umoci[r] as number)}`);
        continue;
      }
      for (let w = 0; w < 2; w++) {
        writeFileSync(
          join(project, 'predict.py'),
          readFileSync(join(project, 'predict.py'), 'utf8').replace(/x \+ \d+/, `x + ${r * 10 + w + 1}`),
        );
        const h = await build(cache, `${reg.host}/bench/cold-${r}:w${w}`);
        const built = h.json.layers.filter((l: { outcome: string }) => l.outcome === 'built');
        if (built.length !== 1 || built[0].id !== 'code')
          throw new Error(`warm rebuild built ${JSON.stringify(built)}`);
        warm.push(h.ms);
        warmBytes.push(h.json.upload.bytesUploaded);
        codeSize = built[0].size;
      }
      rmSync(cache, { recursive: true, force: true });
    }

    if (coldOnly) {
      out(
        `median cold ${fmt(median(cold))} vs ${fmt(median(umoci))}: ${(median(cold) / median(umoci)).toFixed(2)}x`,
      );
      return;
    }
    // 3: a fresh cache folder with --cache-from (cache exported once by a warm build).
    const exporter = freshCache();
    await build(exporter, `${reg.host}/bench/export:1`, ['--cache-to', `${reg.host}/bench/cache:buildcache`]);
    const fromMs: number[] = [];
    let fromOutcomes = '';
    for (let r = 0; r < runs; r++) {
      const f = await build(freshCache(), `${reg.host}/bench/from-${r}:1`, [
        '--cache-from',
        `${reg.host}/bench/cache:buildcache`,
      ]);
      fromMs.push(f.ms);
      const s = f.json.summary.layers;
      if (s.built !== 0) throw new Error(`--cache-from rebuilt ${s.built} layers`);
      fromOutcomes = `${s.built} built, ${s.remote} from the registry cache, ${s.cached} local; ${(f.json.upload.bytesUploaded / 1024).toFixed(1)} KiB uploaded`;
    }

    // 4: compression of a real rootfs tar on this machine's cores.
    const tar = join(work, 'rootfs.tar');
    execFileSync('tar', ['-C', rootfs, '-cf', tar, '.']);
    const tarMB = statSync(tar).size / MB;
    const comp: Record<string, number[]> = {};
    const sizes: Record<string, number> = {};
    const add = (k: string, ms: number, bytes: number) => {
      comp[k] ??= [];
      comp[k].push(ms);
      sizes[k] = bytes;
    };
    const cli = async (k: string, cmd: string) => {
      const r = await timed('sh', ['-c', `${cmd} -c ${tar} | wc -c`]);
      add(k, r.ms, Number(r.stdout.trim()));
    };
    const ours = async (k: string, algorithm: CompressionAlgorithm, level: number) => {
      const r = await timed(process.execPath, [self, '--compress-child', tar, algorithm, String(level)]);
      const [ms, bytes] = r.stdout.trim().split(' ').map(Number) as [number, number];
      add(k, ms, bytes);
    };
    const p = cpus().length;
    for (let r = 0; r < runs; r++) {
      for (const level of [6, 1]) {
        await cli(`gzip -${level}`, `gzip -${level}`);
        await cli(`pigz -${level}`, `pigz -${level} -p ${p}`);
        await ours(`cogts gzip level ${level}`, 'gzip', level);
      }
      await cli('zstd -3 (native CLI, all cores)', `zstd -3 -q -T${p}`);
      await ours('cogts zstd level 3 (wasm workers)', 'zstd', 3);
    }

    // 5: peak RSS building a 3 GiB layer.
    const rssDir = join(work, 'rss');
    const rss = await timed('/usr/bin/time', [
      '-f',
      '%M',
      process.execPath,
      self,
      '--rss-child',
      '3',
      rssDir,
    ]);
    const [rssMs, rssBlob] = rss.stdout.trim().split(' ').map(Number) as [number, number];
    const peakKB = Number(rss.stderr.trim().split('\n').pop());
    rmSync(rssDir, { recursive: true, force: true });

    const load1 = loadavg()[0] as number;
    const mc = median(cold);
    const mu = median(umoci);
    const mw = median(warm);
    out(
      `Command: \`npm run build && npx tsc -p tsconfig.json --outDir dist-h && cp -r dist/runtime dist-h/ && cp dist/src/cli/cogts.mjs dist-h/src/cli/ && node dist-h/bench/run-all.js ${runs}\` (builds run the one-file CLI, as bin/cogts.js does)`,
    );
    out(
      `(${started.toISOString().slice(0, 16).replace('T', ' ')} UTC, ${cpus().length} cores, load average ${load0.toFixed(1)} at start / ${load1.toFixed(1)} at end — other developers' jobs share the machine, so compare the side-by-side ratios, not absolute times; medians of ${runs} runs, each a fresh process).`,
    );
    out(
      `Model: bookworm minbase + python3 base (debootstrap, umoci-made, 1 layer); 50 small .py files + predict.py + a 600 MB random weights.bin; one 200 MB wheel (half random, half text) from a local PEP 691 index; cogts runtime layer. Image layers cogts adds: ${(modelBytes / MB).toFixed(0)} MB compressed.`,
    );
    out();
    out('| case | median | runs | target |');
    out('|---|---|---|---|');
    out(
      `| cold build+push, empty layer cache (cogts) | ${fmt(mc)} | ${cold.map(fmt).join(', ')} | ≤ umoci+skopeo |`,
    );
    out(`| umoci insert ×3 + skopeo copy, same files | ${fmt(mu)} | ${umoci.map(fmt).join(', ')} | |`);
    out(
      `| warm rebuild+push after a one-line change | ${fmt(mw)} | ${warm.map(fmt).join(', ')} | ≤ 1.5 s and ≤ cold/20 |`,
    );
    out(
      `| fresh cache folder + --cache-from | ${fmt(median(fromMs))} | ${fromMs.map(fmt).join(', ')} | no layer rebuilt |`,
    );
    out();
    out(
      `Ratios: cold cogts / umoci+skopeo = ${(mc / mu).toFixed(2)}; warm / cold = 1/${(mc / mw).toFixed(0)}. Cold uploaded ${(coldBytes / MB).toFixed(0)} MB; warm uploaded ${warmBytes.map((b) => `${(b / 1024).toFixed(1)} KiB`).join(', ')} (code layer ${(codeSize / 1024).toFixed(1)} KiB + image config). --cache-from: ${fromOutcomes}.`,
    );
    out();
    out(
      `First cold build, from its --progress json events (times from the first event, after Node start-up): ${breakdown}.`,
    );
    out();
    out(
      `Compression of a ${tarMB.toFixed(0)} MB rootfs tar to /dev/null (cogts: ${DEFAULT_GZIP.chunkSize / MB} MiB pieces, gzip members on the libuv pool or zstd frames on worker threads, each run a fresh process; sizes are the compressed output):`,
    );
    out();
    out('| compressor | median | MB/s | output | vs gzip -1 / -6 time |');
    out('|---|---|---|---|---|');
    for (const [k, v] of Object.entries(comp)) {
      const vs = (level: number) => (median(comp[`gzip -${level}`] as number[]) / median(v)).toFixed(2);
      out(
        `| ${k} | ${fmt(median(v))} | ${(tarMB / (median(v) / 1000)).toFixed(0)} | ${((sizes[k] as number) / MB).toFixed(1)} MB | ${vs(1)}× / ${vs(6)}× |`,
      );
    }
    out();
    out(
      `Peak RSS building one 3 GiB layer (1 MiB random / 1 MiB text alternating, streamed; buildLayer → ${(rssBlob / MB).toFixed(0)} MB blob in ${fmt(rssMs)}): ${(peakKB / 1024).toFixed(0)} MB (target < 300 MB).`,
    );
    if (write) writeSection(`${lines.join('\n')}\n\n${NOTES}`);
  } finally {
    await index.close();
    await reg.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

/** Kept with the figures on every run: what the numbers mean (sizes from the runs this was written from). */
const NOTES = `Reading the figures (profiles of the same builds, 2026-11-29): (1) Cold is CPU-bound: ~14 s of CPU (user+sys) for
~10 s of wall time on 2 cores, plus the registry's own hashing. It does work umoci+skopeo is spared: it reads the base's
layers (Python, glibc, dpkg; ~0.8 s alone, done first because it heads the base → Python → pip resolve → wheel download
→ pip layer chain, then cached by manifest digest), hashes the 600 MB weights for the layer key, downloads, verifies and
lays out the wheel through the pip installer (umoci is handed the unpacked files), and hashes every byte three times on
Node's main thread (key, diff_id, digest); GC from buffer churn is still ~1.9 s of main thread. umoci insert + skopeo copy
itself varied from 3.3 s to 7.4 s between runs on this shared machine, so the ratio moves with it: target ≤ 1.0× is missed.
(2) Warm: ~0.25 s is Node starting and evaluating the one-file CLI (dist/src/cli/cogts.mjs), ~0.2 s the layers phase
(manifest and blob HEAD round trips, the stat cache, tarring and uploading the small code layer), ~0.03 s the push; no
other layer is tarred, compressed or written. (3) --cache-from on an empty cache folder downloads no wheel (the pip
layers' keys come from the pip plan in the registry cache), hashes the weights for their key, tars and compresses
nothing, and mounts every layer. (4) Node bundles Chromium's SIMD zlib, so one gzip member is already faster than GNU
gzip; cogts also spreads 4 MiB pieces over the pool and frames incompressible pieces itself (stored blocks + CRC32, no
deflate pass). zstd runs the reference C library compiled to wasm on worker threads: ~2× slower than the native CLI,
smaller output than gzip -6, and several times faster to decompress.`;

const BEGIN = '<!-- bench/run-all: begin -->';
const END = '<!-- bench/run-all: end -->';

/** Replaces this script's section of bench/RESULTS.md (appends it the first time). */
function writeSection(body: string): void {
  const file = join(repoRoot, 'bench', 'RESULTS.md');
  const text = readFileSync(file, 'utf8');
  const section = `${BEGIN}\n## build cache, registry cache, compression, memory (issue 8; bench/run-all.ts)\n\n${body}\n${END}`;
  const i = text.indexOf(BEGIN);
  const j = text.indexOf(END);
  const next =
    i >= 0 && j > i
      ? text.slice(0, i) + section + text.slice(j + END.length)
      : `${text.trimEnd()}\n\n${section}\n`;
  writeFileSync(file, next);
}

main().catch((err) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
