/**
 * static == runtime for every fixture model: the document `staticOpenApiSchema` builds from source
 * must equal what the real server (with the real Python runner) serves at /openapi.json, key order
 * included, and the per-target flags must match what the runner reports.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { load } from 'js-yaml';
import { staticOpenApiSchema, staticTargetSchema } from '../../src/schema/index.js';
import { buildOpenApiDocument, type ComponentSchemas } from '../../src/server/openapi.js';
import { COGTS_VERSION, startServer } from '../../src/server/server.js';
import { fixturesDir } from '../helpers/paths.js';
import { cogPackageDir, runtimeTargets } from './runtime.js';

const modelsDir = join(fixturesDir, 'models');

interface ModelRefs {
  name: string;
  dir: string;
  predict: string;
  train?: string;
}

const models: ModelRefs[] = readdirSync(modelsDir)
  .filter((name) => existsSync(join(modelsDir, name, 'cog.yaml')))
  .flatMap((name) => {
    const dir = join(modelsDir, name);
    const y = (load(readFileSync(join(dir, 'cog.yaml'), 'utf8')) ?? {}) as Record<string, unknown>;
    const predict = (y.run ?? y.predict) as string | undefined;
    if (typeof predict !== 'string') return [];
    return [{ name, dir, predict, ...(typeof y.train === 'string' ? { train: y.train } : {}) }];
  });

/** What the runner reports with --schema-only (no setup), wrapped as routes.ts serves it. */
function runtimeDocument(m: ModelRefs): unknown {
  const args = [
    '-m',
    'cog.runner',
    '--predict',
    m.predict,
    '--schema-only',
    ...(m.train ? ['--train', m.train] : []),
  ];
  const frame = JSON.parse(
    execFileSync('python3', args, {
      cwd: m.dir,
      env: { ...process.env, PYTHONPATH: cogPackageDir, PYTHONDONTWRITEBYTECODE: '1' },
      encoding: 'utf8',
    }),
  ) as ComponentSchemas;
  // Through JSON text, as a client of /openapi.json would read it.
  return JSON.parse(JSON.stringify(buildOpenApiDocument(frame, COGTS_VERSION)));
}

/** The document the real server (and its Python runner) serves, after setup has ended. */
async function servedDocument(m: ModelRefs): Promise<unknown> {
  const quiet = new Writable({ write: (_c, _e, cb) => cb() });
  const server = await startServer({
    projectDir: m.dir,
    predict: m.predict,
    ...(m.train ? { train: m.train } : {}),
    port: 0,
    host: '127.0.0.1',
    cogPackageDir,
    logStream: quiet,
    logLevel: 'error',
  });
  try {
    // Closing while setup() still runs makes the server restart the runner after close (reported),
    // so wait for setup to end; the schema is reported either way.
    await server.settled();
    const res = await fetch(`${server.url}/openapi.json`);
    const text = await res.text();
    assert.equal(res.status, 200, `${m.name}: /openapi.json answered ${res.status}: ${text}`);
    return JSON.parse(text);
  } finally {
    await server.close({ graceMs: 500 });
  }
}

describe('static schema == runtime schema for every fixture model', () => {
  test('the fixture set is not empty and includes the shapes this must cover', () => {
    const names = models.map((m) => m.name);
    assert.ok(models.length >= 5, `only ${models.length} fixture models found`);
    for (const expected of ['typed-inputs', 'streaming', 'base-model', 'runner']) {
      if (existsSync(join(modelsDir, expected))) assert.ok(names.includes(expected), expected);
    }
  });

  for (const m of models) {
    test(`${m.name}: the runtime's OpenAPI document equals the static document`, () => {
      const runtime = runtimeDocument(m);
      const built = staticOpenApiSchema(m.dir, m.predict, {
        kind: 'predict',
        version: COGTS_VERSION,
        ...(m.train ? { train: m.train } : {}),
      });
      assert.deepStrictEqual(built, runtime);
      assert.equal(JSON.stringify(built), JSON.stringify(runtime));
      if (m.train) {
        const viaTrain = staticOpenApiSchema(m.dir, m.train, {
          kind: 'train',
          predict: m.predict,
          version: COGTS_VERSION,
        });
        assert.equal(JSON.stringify(viaTrain), JSON.stringify(runtime));
      }
    });

    test(`${m.name}: streaming/async/concurrency flags equal the runner's`, () => {
      const refs = [{ ref: m.predict }, ...(m.train ? [{ ref: m.train, train: true }] : [])];
      const runtime = runtimeTargets(m.dir, refs);
      refs.forEach((r, i) => {
        const rt = runtime[i]!;
        assert.ok(!('error' in rt), `runtime failed on ${r.ref}: ${'error' in rt ? rt.error : ''}`);
        const st = staticTargetSchema(m.dir, r.ref, { kind: r.train ? 'train' : 'predict' });
        assert.equal(JSON.stringify(st.input), JSON.stringify(rt.input));
        assert.equal(JSON.stringify(st.output), JSON.stringify(rt.output));
        assert.equal(st.streaming, rt.streaming, 'streaming');
        assert.equal(st.async, rt.async, 'async');
        assert.equal(st.concurrency ?? null, rt.concurrency, 'concurrency');
      });
    });
  }

  // The served route wraps the same frame; prove it end to end on models whose setup is quick.
  for (const name of ['typed-inputs', 'runner']) {
    const m = models.find((x) => x.name === name);
    if (!m) continue;
    test(`${name}: GET /openapi.json from the real server equals the static document`, async () => {
      const served = await servedDocument(m);
      const built = staticOpenApiSchema(m.dir, m.predict, {
        kind: 'predict',
        version: COGTS_VERSION,
        ...(m.train ? { train: m.train } : {}),
      });
      assert.equal(JSON.stringify(built), JSON.stringify(served));
    });
  }
});
