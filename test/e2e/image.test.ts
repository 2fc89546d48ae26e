/**
 * The end-to-end proof that `cogts build --push` makes a runnable Cog image without a Docker daemon:
 * a base made by other tools (debootstrap + umoci, pushed with skopeo) → cogts build → pulled back
 * with skopeo, unpacked with umoci, and its own entrypoint run with runc (PID 1, no TTY) → the Cog
 * HTTP API over loopback.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { imageLayoutFromRootfs, pushImage } from '../helpers/base-image.js';
import { testCacheDir } from '../helpers/cache.js';
import { debootstrapBase } from '../helpers/debootstrap.js';
import { cogtsBin, fixturesDir, repoRoot } from '../helpers/paths.js';
import { buildFixtureWheels, type PyIndex, startPyIndex } from '../helpers/pyindex.js';
import { freePort, startRegistry, type TestRegistry } from '../helpers/registry.js';
import { runBundle, unpackFromRegistry, waitFor } from '../helpers/run-image.js';
import { runCollect } from '../helpers/spawn.js';

const bundled = existsSync(join(repoRoot, 'dist', 'runtime', 'server.mjs'));

describe('built images run their own entrypoint', {
  skip: !bundled && 'run `npm run build` first (bundles the server)',
}, () => {
  let reg: TestRegistry;
  let base: string;
  let index: PyIndex;

  before(async () => {
    reg = await startRegistry({});
    const rootfs = debootstrapBase({ suite: 'bookworm', variant: 'minbase', include: ['python3'] });
    const layout = imageLayoutFromRootfs(rootfs, [
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    ]);
    base = `${reg.host}/e2e/base:bookworm`;
    pushImage(layout, base);
    const wheels = mkdtempSync(join(tmpdir(), 'cogts-e2e-wheels-'));
    buildFixtureWheels(wheels);
    index = await startPyIndex({ dir: wheels, flavour: 'json', pep658: true });
  });
  after(async () => {
    await reg?.stop();
    await index?.close();
  });

  // Async: the test's own package index answers from this process while cogts runs.
  async function build(model: string, tag: string, extra: string[] = []): Promise<string> {
    const ref = `${reg.host}/e2e/${model}:${tag}`;
    const args = [
      'build',
      '--base-image',
      base,
      '--push',
      ref,
      '--cache-dir',
      testCacheDir('e2e-build'),
      ...extra,
    ];
    const { status, stdout, stderr } = await runCollect(process.execPath, [cogtsBin, ...args], {
      cwd: join(fixturesDir, 'models', model),
      env: { ...process.env, SOURCE_DATE_EPOCH: '0' },
    });
    assert.equal(status, 0, `cogts build ${model} failed:\n${stderr}`);
    assert.match(stdout.trim(), new RegExp(`^${reg.host}/e2e/${model}@sha256:[0-9a-f]{64}$`));
    return ref;
  }

  function labels(ref: string): Record<string, string> {
    const config = JSON.parse(
      execFileSync('skopeo', ['inspect', '--config', '--tls-verify=false', `docker://${ref}`], {
        encoding: 'utf8',
      }),
    );
    return config.config.Labels;
  }

  async function withServer(ref: string, fn: (url: string) => Promise<void>): Promise<void> {
    const image = unpackFromRegistry(ref);
    const port = await freePort();
    const run = runBundle(image, { env: { PORT: String(port) } });
    const url = `http://127.0.0.1:${port}`;
    try {
      const health = await waitFor(`${url}/health-check`, (b) => b.status !== 'STARTING', 60_000);
      assert.equal(health.status, 'READY', run.output());
      await fn(url);
      const schema = await (await fetch(`${url}/openapi.json`)).json();
      const label = JSON.parse(labels(ref)['run.cog.openapi_schema'] ?? 'null');
      assert.deepEqual(schema, label, 'served schema == label');
      // Cog also writes the schema into the image at <workdir>/.cog/openapi_schema.json.
      const file = join(image.bundle, 'rootfs', 'src', '.cog', 'openapi_schema.json');
      assert.deepEqual(
        JSON.parse(readFileSync(file, 'utf8')),
        label,
        '/src/.cog/openapi_schema.json == label',
      );
      // docker stop: SIGTERM to PID 1, which drains and exits 0 well before a SIGKILL would come.
      run.signal('TERM');
      const code = await Promise.race([
        run.exited,
        new Promise((r) => setTimeout(() => r('timeout'), 15_000)),
      ]);
      assert.equal(code, 0, run.output());
    } catch (err) {
      run.signal('KILL');
      throw new Error(`${(err as Error).message}\n--- container output ---\n${run.output()}`, { cause: err });
    } finally {
      run.cleanup();
      image.cleanup();
    }
  }

  async function predict(url: string, input: unknown): Promise<Record<string, unknown>> {
    const res = await fetch(`${url}/predictions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input }),
    });
    assert.equal(res.status, 200);
    return (await res.json()) as Record<string, unknown>;
  }

  test('typed inputs: validation and a BaseModel output', async () => {
    const ref = await build('typed-inputs', '1');
    const l = labels(ref);
    assert.equal(JSON.parse(l['run.cog.config'] ?? '{}').predict, 'predict.py:Predictor');
    await withServer(ref, async (url) => {
      const out = await predict(url, { text: 'ab', count: 3, token: 's3cret', tags: ['x'] });
      assert.equal(out.status, 'succeeded', JSON.stringify(out));
      assert.deepEqual((out.output as Record<string, unknown>).text, 'ababab');
      assert.equal((out.output as Record<string, unknown>).token_length, 6);
      assert.doesNotMatch(String(out.logs), /s3cret/);
      const bad = await fetch(`${url}/predictions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ input: { text: '', count: 11, token: 'x' } }),
      });
      assert.equal(bad.status, 422);
      const fields = ((await bad.json()) as { detail: { loc: string[] }[] }).detail.map((d) => d.loc.at(-1));
      assert.deepEqual(fields.sort(), ['count', 'text']);
    });
  });

  test('file input and file outputs as data URLs', async () => {
    const ref = await build('files', '1');
    await withServer(ref, async (url) => {
      const data = Buffer.from('hello image bytes');
      const out = await predict(url, {
        image: `data:application/octet-stream;base64,${data.toString('base64')}`,
      });
      assert.equal(out.status, 'succeeded', JSON.stringify(out));
      const [reversed, size] = out.output as string[];
      assert.match(reversed ?? '', /^data:/);
      const b64 = (s: string) => Buffer.from(s.slice(s.indexOf(',') + 1), 'base64');
      assert.deepEqual(b64(reversed ?? ''), Buffer.from([...data].reverse()));
      assert.equal(b64(size ?? '').toString(), String(data.length));
    });
  });

  test('streaming output over server-sent events', async () => {
    const ref = await build('streaming', '1');
    await withServer(ref, async (url) => {
      const res = await fetch(`${url}/predictions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({ input: { prompt: 'one two three', delay: 0.01 } }),
      });
      assert.equal(res.status, 200);
      const text = await res.text();
      const outputs = [...text.matchAll(/event: output\ndata: (.*)\n/g)].map(
        (m) => JSON.parse(m[1] ?? '{}').chunk,
      );
      assert.deepEqual(outputs, ['one ', 'two ', 'three ']);
      assert.match(text, /event: completed/);
    });
  });

  test('wheels resolved and installed by cogts import, and their console scripts run, in the image', async () => {
    const ref = await build('with-wheels', '1', ['--index-url', index.url]);
    await withServer(ref, async (url) => {
      const out = await predict(url, { a: 40, b: 2 });
      assert.equal(out.status, 'succeeded', JSON.stringify(out));
      assert.equal(out.output, '42 alpha=2.0 beta=1.6 gamma=1.0 epsilon=1.0 speedy=1.0');
    });
    const image = unpackFromRegistry(ref);
    const run = runBundle(image, { args: ['gamma-cli'] });
    try {
      assert.equal(await run.exited, 0, run.output());
      assert.equal(run.output().trim(), 'gamma-cli ok');
    } finally {
      run.cleanup();
      image.cleanup();
    }
  });

  test('a rebuild with no change gives the same digest; cogts inspect shows schema and labels', async () => {
    const first = await build('streaming', 'again');
    const digest = (ref: string) =>
      JSON.parse(
        execFileSync('skopeo', ['inspect', '--tls-verify=false', `docker://${ref}`], { encoding: 'utf8' }),
      ).Digest;
    assert.equal(digest(first), digest(`${reg.host}/e2e/streaming:1`));
    const r = spawnSync(process.execPath, [cogtsBin, 'inspect', first, '--json'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const inspected = JSON.parse(r.stdout);
    assert.match(JSON.stringify(inspected), /run\.cog\.openapi_schema/);
  });
});
