/**
 * Issue 5 benchmark: cold start of a built image to READY (Node server + Python runner + setup of a
 * trivial model) when run by runc as `docker run` would, and the size of the cogts runtime layer.
 *
 *   npm run build && node dist/bench/image-start.js [rounds]
 *
 * Prints a Markdown section for bench/RESULTS.md.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { imageLayoutFromRootfs, pushImage } from '../test/helpers/base-image.js';
import { testCacheDir } from '../test/helpers/cache.js';
import { debootstrapBase } from '../test/helpers/debootstrap.js';
import { cogtsBin, fixturesDir } from '../test/helpers/paths.js';
import { freePort, startRegistry } from '../test/helpers/registry.js';
import { runBundle, unpackFromRegistry, waitFor } from '../test/helpers/run-image.js';

const rounds = Number(process.argv[2] ?? 7);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const reg = await startRegistry({});
try {
  const rootfs = debootstrapBase({ suite: 'bookworm', variant: 'minbase', include: ['python3'] });
  const base = `${reg.host}/bench/base:bookworm`;
  pushImage(
    imageLayoutFromRootfs(rootfs, ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin']),
    base,
  );
  const ref = `${reg.host}/bench/null:1`;
  const build = spawnSync(
    process.execPath,
    [
      cogtsBin,
      'build',
      '--base-image',
      base,
      '--push',
      ref,
      '--json',
      '--cache-dir',
      testCacheDir('bench-build'),
    ],
    { cwd: join(fixturesDir, 'models', 'null'), encoding: 'utf8' },
  );
  if (build.status !== 0) throw new Error(build.stderr);
  const summary = JSON.parse(build.stdout) as { layers: { id: string; size: number }[] };
  const runtime = summary.layers.find((l) => l.id === 'runtime');

  const image = unpackFromRegistry(ref);
  const times: number[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      const port = await freePort();
      const t0 = performance.now();
      const run = runBundle(image, { env: { PORT: String(port) } });
      try {
        await waitFor(`http://127.0.0.1:${port}/health-check`, (b) => b.status === 'READY', 30_000, 5);
        times.push(performance.now() - t0);
      } finally {
        run.signal('TERM');
        await run.exited;
        run.cleanup();
      }
    }
  } finally {
    image.cleanup();
  }
  const load = (await import('node:os'))
    .loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');
  console.log(`## Image cold start to READY, and the runtime layer (issue 5)

Command: \`npm run build && node dist/bench/image-start.js ${rounds}\`, ${new Date().toISOString()}, load average ${load}.
The fixtures/models/null image (debootstrap bookworm base with Debian's python3.11) is unpacked once with umoci and
started ${rounds} times with \`runc run\` (its own entrypoint as PID 1); the time is from spawning runc to the first
\`/health-check\` answer with status READY (polled every 5 ms): container creation + Node start + Python runner
start + the model's setup().

| measure | value | target |
|---|---|---|
| cold start to READY, median | ${median(times).toFixed(0)} ms | < 1500 ms |
| all runs | ${times.map((t) => t.toFixed(0)).join(', ')} ms | |
| runtime layer (Node ${'22'} stripped + server.mjs + cog shim), gzip | ${((runtime?.size ?? 0) / 1e6).toFixed(1)} MB | < 40 MB |
`);
} finally {
  await reg.stop();
}
