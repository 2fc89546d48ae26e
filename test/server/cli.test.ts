import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { cogtsBin } from '../helpers/paths.js';
import { getJson, modelDir, postJson, waitFor } from './harness.js';

test('cogts predict: typed -i values, @file inputs, file outputs written next to it, --json', () => {
  const work = mkdtempSync(join(tmpdir(), 'cogts-predict-'));
  writeFileSync(join(work, 'in.txt'), 'abcdef');
  const r = spawnSync(
    process.execPath,
    [cogtsBin, 'predict', '-f', join(modelDir('files'), 'cog.yaml'), '-i', `image=@${join(work, 'in.txt')}`],
    { cwd: work, encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /Written output to output\.0\.txt/);
  assert.equal(readFileSync(join(work, 'output.0.txt'), 'utf8'), 'fedcba');
  assert.equal(readFileSync(join(work, 'output.1.txt'), 'utf8'), '6');
  rmSync(work, { recursive: true, force: true });

  const j = spawnSync(
    process.execPath,
    [
      cogtsBin,
      'predict',
      '--json',
      '-i',
      'text=hey',
      '-i',
      'count=2',
      '-i',
      'flag=true',
      '-i',
      'token=t',
      '-i',
      'tags=a',
      '-i',
      'tags=b',
    ],
    { cwd: modelDir('typed-inputs'), encoding: 'utf8' },
  );
  assert.equal(j.status, 0, j.stderr);
  const body = JSON.parse(j.stdout);
  assert.equal(body.output.text, 'heyhey');
  assert.equal(body.output.flag, true);
  assert.deepEqual(body.output.tags, ['a', 'b']);

  const bad = spawnSync(
    process.execPath,
    [cogtsBin, 'predict', '-i', 'count=99', '-i', 'text=x', '-i', 'token=t'],
    {
      cwd: modelDir('typed-inputs'),
      encoding: 'utf8',
    },
  );
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /invalid input: count: must be <= 10/);
  const nope = spawnSync(process.execPath, [cogtsBin, 'predict', '-i', 'bogus=1'], {
    cwd: modelDir('null'),
    encoding: 'utf8',
  });
  assert.equal(nope.status, 1);
  assert.match(nope.stderr, /no input named bogus/);
});

test('cogts predict reports a failed setup with its logs', () => {
  const r = spawnSync(process.execPath, [cogtsBin, 'predict'], {
    cwd: modelDir('setup-fails'),
    encoding: 'utf8',
  });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /RuntimeError: weights are missing/);
  assert.match(r.stderr, /setup failed/);
});

test('cogts serve --port serves the model in the current folder until SIGTERM', async () => {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const child = spawn(process.execPath, [cogtsBin, 'serve', '--port', String(port)], {
    cwd: modelDir('null'),
    stdio: 'ignore',
  });
  try {
    const url = `http://127.0.0.1:${port}`;
    await waitFor(
      'READY',
      async () => (await getJson(`${url}/health-check`).catch(() => undefined))?.status === 'READY',
    );
    const r = await postJson(`${url}/predictions`, { input: {} });
    assert.equal(r.body.status, 'succeeded');
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
  } finally {
    child.kill('SIGKILL');
  }
});
