import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { startServer } from '../../src/server/server.js';
import { distRoot } from '../helpers/paths.js';
import { getJson, modelDir, postJson, waitFor } from './harness.js';

const mainJs = join(distRoot, 'src', 'server', 'main.js');

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

test('the entrypoint drains on SIGTERM: the in-flight prediction completes, the runner and server exit 0', async () => {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(process.execPath, [mainJs], {
    cwd: modelDir('slow'),
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', COG_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    out += d;
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor('READY', async () => {
      const h = await getJson(`${url}/health-check`).catch(() => undefined);
      return h?.status === 'READY';
    });
    const runnerPid = Number(/"msg":"runner started","pid":(\d+)/.exec(out)?.[1]);
    assert.ok(runnerPid > 0, out);
    const inflight = postJson(`${url}/predictions`, { input: { seconds: 0.8 } });
    await new Promise((r) => setTimeout(r, 200));
    child.kill('SIGTERM');
    const r = await inflight;
    assert.equal(r.body.status, 'succeeded');
    assert.equal(r.body.output, 'slept 0.8');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0, out);
    assert.equal(pidAlive(runnerPid), false, 'runner is gone');
    const lines = out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { msg: string });
    assert.ok(lines.some((l) => l.msg === 'shutting down'));
  } finally {
    child.kill('SIGKILL');
  }
});

test('POST /shutdown stops the entrypoint', async () => {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(process.execPath, [mainJs], {
    cwd: modelDir('null'),
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1' },
    stdio: 'ignore',
  });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      'READY',
      async () => (await getJson(`${url}/health-check`).catch(() => undefined))?.status === 'READY',
    );
    assert.equal((await postJson(`${url}/shutdown`, {})).status, 200);
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
  } finally {
    child.kill('SIGKILL');
  }
});

test('closing the server while setup() runs stops it for good: the runner is not started again', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cogts-setup-close-'));
  writeFileSync(join(dir, 'cog.yaml'), 'build:\n  python_version: "3.11"\npredict: "predict.py:Predictor"\n');
  writeFileSync(
    join(dir, 'predict.py'),
    'import time\nfrom cog import BasePredictor\n\n\nclass Predictor(BasePredictor):\n    def setup(self):\n        time.sleep(0.3)\n\n    def predict(self) -> str:\n        return "ok"\n',
  );
  let log = '';
  const logStream = new Writable({
    write(chunk, _enc, cb) {
      log += chunk;
      cb();
    },
  });
  try {
    const server = await startServer({
      projectDir: dir,
      predict: 'predict.py:Predictor',
      port: 0,
      host: '127.0.0.1',
      logStream,
    });
    await server.close({ graceMs: 100 });
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(log.match(/"runner started"/g)?.length ?? 0, 1, log);
    assert.doesNotMatch(log, /restarting/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
