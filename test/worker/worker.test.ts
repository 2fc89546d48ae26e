import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { RunnerFrame } from '../../src/worker/protocol.js';
import { LineSplitter } from '../../src/worker/protocol.js';
import { Worker } from '../../src/worker/worker.js';
import { fixturesDir, repoRoot } from '../helpers/paths.js';

test('LineSplitter keeps partial lines across chunks', () => {
  const s = new LineSplitter();
  assert.deepEqual(s.push('{"a":1}\n{"b"'), ['{"a":1}']);
  assert.deepEqual(s.push(':2}\n\n'), ['{"b":2}']);
  assert.deepEqual(s.push('x'), []);
  assert.deepEqual(s.push('y'), []);
  assert.deepEqual(s.push('z\na\nb'), ['xyz', 'a']);
  assert.deepEqual(s.push('\n'), ['b']);
});

test('a 40 MB frame arriving in 64 KiB chunks comes out whole', () => {
  const s = new LineSplitter();
  const chunk = 'x'.repeat(65536);
  for (let i = 0; i < 640; i++) assert.deepEqual(s.push(chunk), []);
  const [line] = s.push('\n');
  assert.equal(line!.length, 640 * 65536);
});

test('Worker speaks the protocol with a real runner: schema, setup_done, predict → done, shutdown', async () => {
  const w = new Worker({
    projectDir: join(fixturesDir, 'models', 'iterator'),
    predict: 'predict.py:Predictor',
    python: process.env.COGTS_PYTHON ?? 'python3',
    cogPackageDir: join(repoRoot, 'src', 'python'),
  });
  const frames: RunnerFrame[] = [];
  const done = new Promise<void>((resolve) =>
    w.on('frame', (f: RunnerFrame) => {
      frames.push(f);
      if (f.type === 'setup_done') w.send({ type: 'predict', id: 'p1', input: { n: 2 } });
      if (f.type === 'done') resolve();
    }),
  );
  await w.start();
  await done;
  const exit = new Promise((r) => w.once('exit', r));
  await w.stop(2000);
  assert.deepEqual(await exit, { code: 0, signal: null });
  assert.deepEqual(
    frames.map((f) => f.type),
    [
      'schema',
      'setup_done',
      'log',
      'metric',
      'metric',
      'output',
      'log',
      'metric',
      'metric',
      'output',
      'done',
    ],
  );
  assert.deepEqual(
    frames.filter((f) => f.type === 'output').map((f) => (f as { value: unknown }).value),
    [0, 1],
  );
  assert.deepEqual(frames.at(-1), { type: 'done', id: 'p1', status: 'succeeded' });
});

test('a missing Python is a CogtsError with a hint', async () => {
  const w = new Worker({ projectDir: fixturesDir, predict: 'x.py:P', python: '/nonexistent/python3' });
  await assert.rejects(w.start(), (e: Error & { code?: string; hint?: string }) => {
    assert.equal(e.code, 'E_PYTHON');
    assert.match(e.hint ?? '', /--python/);
    return true;
  });
});
