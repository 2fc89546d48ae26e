import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { getJson, postJson, serveModel, waitFor } from './harness.js';

describe('prediction lifecycle', () => {
  test('slow model: 409 while busy, cancel ends it canceled with its cleanup logs, unknown cancel is 404', async () => {
    const m = await serveModel('slow', 'predict.py:Predictor');
    try {
      const first = await postJson(
        `${m.url}/predictions`,
        { id: 'slow-1', input: { seconds: 20 } },
        { prefer: 'respond-async' },
      );
      assert.equal(first.status, 202);
      assert.equal(first.body.status, 'processing');
      assert.equal((await getJson(`${m.url}/health-check`)).status, 'BUSY');
      const busy = await postJson(`${m.url}/predictions`, { input: { seconds: 0 } });
      assert.equal(busy.status, 409);
      await waitFor('the predictor to start sleeping', () =>
        m.server.service.get('slow-1')?.state.logs.includes('sleeping'),
      );
      const attached = postJson(`${m.url}/predictions/slow-1`, { input: { seconds: 20 } }, {}, 'PUT');
      const cancel = await postJson(`${m.url}/predictions/slow-1/cancel`, {});
      assert.equal(cancel.status, 200);
      const final = await attached;
      assert.equal(final.body.status, 'canceled');
      assert.match(final.body.logs, /cancelled, cleaning up/);
      assert.equal((await postJson(`${m.url}/predictions/nope/cancel`, {})).status, 404);
      // The runner is still the same healthy process afterwards.
      const after = await postJson(`${m.url}/predictions`, { input: { seconds: 0 } });
      assert.equal(after.body.output, 'slept 0.0');
    } finally {
      await m.close();
    }
  });

  test('idempotent PUT: a retry attaches to the running prediction, a later one returns the result', async () => {
    const m = await serveModel('slow', 'predict.py:Predictor');
    try {
      const a = postJson(`${m.url}/predictions/put-1`, { input: { seconds: 0.4 } }, {}, 'PUT');
      await waitFor('start', () => m.server.service.get('put-1'));
      const b = postJson(`${m.url}/predictions/put-1`, { input: { seconds: 0.4 } }, {}, 'PUT');
      const [ra, rb] = await Promise.all([a, b]);
      assert.equal(ra.status, 200);
      assert.deepEqual(rb.body, ra.body);
      assert.equal(ra.body.logs.match(/sleeping/g).length, 1, 'ran once');
      const again = await postJson(`${m.url}/predictions/put-1`, { input: { seconds: 0.4 } }, {}, 'PUT');
      assert.deepEqual(again.body, ra.body);
    } finally {
      await m.close();
    }
  });

  test('async predictor with concurrency 2 runs two at once and refuses a third with 409', async () => {
    const m = await serveModel('async-concurrency', 'predict.py:Predictor', { concurrency: 2 });
    try {
      const t0 = Date.now();
      const one = postJson(`${m.url}/predictions`, { input: { name: 'a', delay: 0.5 } });
      const two = postJson(`${m.url}/predictions`, { input: { name: 'b', delay: 0.5 } });
      await waitFor('both running', () => m.server.service.basicStatus() === 'BUSY');
      const three = await postJson(`${m.url}/predictions`, { input: { name: 'c' } });
      assert.equal(three.status, 409);
      const [r1, r2] = await Promise.all([one, two]);
      assert.ok(Date.now() - t0 < 950, 'ran concurrently');
      assert.equal(r1.body.output, 'done a');
      assert.equal(r2.body.output, 'done b');
      // Each prediction's prints are its own, even though they interleaved in time.
      assert.equal(r1.body.logs, 'start a\nend a\n');
      assert.equal(r2.body.logs, 'start b\nend b\n');
    } finally {
      await m.close();
    }
  });

  test('@cog.concurrent(max=4) sets the slots when cog.yaml has no concurrency', async () => {
    const m = await serveModel('null-async', 'predict.py:Predictor');
    try {
      assert.deepEqual((await getJson(`${m.url}/health-check`)).concurrency, { max: 4 });
      const all = await Promise.all([1, 2, 3, 4].map(() => postJson(`${m.url}/predictions`, { input: {} })));
      assert.deepEqual(
        all.map((r) => r.status),
        [200, 200, 200, 200],
      );
    } finally {
      await m.close();
    }
  });

  test('async cancel ends the task as canceled', async () => {
    const m = await serveModel('async-concurrency', 'predict.py:Predictor', { concurrency: 2 });
    try {
      await postJson(`${m.url}/predictions`, { id: 'ac', input: { delay: 10 } }, { prefer: 'respond-async' });
      const p = await waitFor('start', () => m.server.service.get('ac'));
      await waitFor('start', () => p.state.logs.includes('start'));
      await postJson(`${m.url}/predictions/ac/cancel`, {});
      const r = await p.result;
      assert.equal(r.status, 'canceled');
    } finally {
      await m.close();
    }
  });

  test('a predictor exception is HTTP 200 with status failed, the error and the traceback in logs', async () => {
    const m = await serveModel('predict-error', 'predict.py:Predictor');
    try {
      const r = await postJson(`${m.url}/predictions`, { input: { value: 13 } });
      assert.equal(r.status, 200);
      assert.equal(r.body.status, 'failed');
      assert.equal(r.body.error, 'value 13 is unlucky');
      assert.match(r.body.logs, /about to fail\n/);
      assert.match(r.body.logs, /Traceback[\s\S]*ValueError: value 13 is unlucky/);
      assert.equal((await getJson(`${m.url}/health-check`)).status, 'READY');
    } finally {
      await m.close();
    }
  });

  test('failing setup: SETUP_FAILED with the setup logs, predictions refused with 503', async () => {
    const m = await serveModel('setup-fails', 'predict.py:Predictor');
    try {
      const h = await getJson(`${m.url}/health-check`);
      assert.equal(h.status, 'SETUP_FAILED');
      assert.equal(h.setup.status, 'failed');
      assert.match(h.setup.logs, /loading weights\n[\s\S]*RuntimeError: weights are missing/);
      assert.equal((await postJson(`${m.url}/predictions`, { input: {} })).status, 503);
    } finally {
      await m.close();
    }
  });

  test('setup that outlives COG_SETUP_TIMEOUT fails with a message in the setup logs', async () => {
    const m = await serveModel('slow-setup', 'predict.py:Predictor', { setupTimeoutS: 0.5 });
    try {
      const h = await getJson(`${m.url}/health-check`);
      assert.equal(h.status, 'SETUP_FAILED');
      assert.match(h.setup.logs, /loading slowly\n[\s\S]*setup did not finish within 0.5 s/);
    } finally {
      await m.close();
    }
  });

  test('os._exit mid-prediction: that prediction fails, the server goes DEFUNCT, restarts the runner, recovers', async () => {
    const m = await serveModel('crash', 'predict.py:Predictor');
    try {
      const r = await postJson(`${m.url}/predictions`, { input: { crash: true } });
      assert.equal(r.status, 200);
      assert.equal(r.body.status, 'failed');
      assert.match(r.body.error, /ended unexpectedly \(exit code 3\)/);
      assert.match(r.body.logs, /exiting hard/);
      await waitFor('READY again', async () => (await getJson(`${m.url}/health-check`)).status === 'READY');
      const ok = await postJson(`${m.url}/predictions`, { input: {} });
      assert.equal(ok.body.output, 'alive');
      assert.ok(m.logs.lines.some((l) => l.msg === 'runner ended; restarting'));
    } finally {
      await m.close();
    }
  });

  test('run: + BaseRunner, setup(weights), trainings, and a failing healthcheck() → UNHEALTHY', async () => {
    const flag = join(tmpdir(), `cogts-unhealthy-${process.pid}`);
    rmSync(flag, { force: true });
    const m = await serveModel('runner', 'run.py:Runner', {
      train: 'train.py:train',
      weights: '/weights/v1',
      env: { ...process.env, COGTS_FIXTURE_UNHEALTHY: flag },
    });
    try {
      const r = await postJson(`${m.url}/predictions`, { input: { name: 'ada' } });
      assert.equal(r.body.output, 'hello ada (weights=/weights/v1)');
      const root = await getJson(`${m.url}/`);
      assert.equal(root.trainings_url, '/trainings');
      const t = await postJson(`${m.url}/trainings`, { input: { steps: 3 } });
      assert.equal(t.body.status, 'succeeded');
      assert.equal(t.body.output, 'trained 3 steps at 0.1');
      assert.equal((await postJson(`${m.url}/trainings`, { input: { steps: 0 } })).status, 422);
      const doc = await getJson(`${m.url}/openapi.json`);
      assert.ok(doc.paths['/trainings']);
      assert.equal(doc.components.schemas.TrainingInput.properties.steps.minimum, 1);
      assert.equal((await getJson(`${m.url}/health-check`)).status, 'READY');
      writeFileSync(flag, 'x');
      const h = await getJson(`${m.url}/health-check`);
      assert.equal(h.status, 'UNHEALTHY');
      assert.match(h.user_healthcheck_error, /returned False/);
    } finally {
      rmSync(flag, { force: true });
      await m.close();
    }
  });
});
