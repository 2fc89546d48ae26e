import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ProgressEvent } from '../../src/progress/events.js';
import { createProgress, liveLine, plainLine, summaryLines } from '../../src/progress/render.js';

function sink(isTTY: boolean) {
  const out: string[] = [];
  const stream = {
    isTTY,
    columns: 80,
    write: (s: string) => out.push(s) > 0,
  } as unknown as NodeJS.WriteStream;
  return { out, stream };
}

const events: ProgressEvent[] = [
  { type: 'phase', phase: 'layers', status: 'start' },
  { type: 'layer', id: 'code', kind: 'code', status: 'start' },
  { type: 'bytes', id: 'code', stage: 'build', bytes: 10, total: 20 },
  {
    type: 'layer',
    id: 'code',
    kind: 'code',
    status: 'built',
    digest: `sha256:${'a'.repeat(64)}`,
    size: 2048,
    ms: 1500,
  },
  {
    type: 'layer',
    id: 'runtime',
    kind: 'runtime',
    status: 'cached',
    digest: `sha256:${'b'.repeat(64)}`,
    size: 5,
    ms: 1,
  },
  { type: 'blob', digest: `sha256:${'a'.repeat(64)}`, size: 2048, result: 'uploaded', layer: 'code' },
  { type: 'phase', phase: 'layers', status: 'done', ms: 1600 },
];

test('plain: one line per finished step, none for starts and byte counts', () => {
  const { out, stream } = sink(false);
  const p = createProgress('auto', stream);
  for (const e of events) p.emit(e);
  p.close();
  assert.deepEqual(out.join('').trim().split('\n'), [
    `layer code: built sha256:${'a'.repeat(64)} (2.0 KiB, 1.50s)`,
    `layer runtime: cached sha256:${'b'.repeat(64)} (5 B, 0.00s)`,
    'blob aaaaaaaaaaaa (code): uploaded 2.0 KiB',
    'layers: done in 1.60s',
  ]);
  assert.equal(
    plainLine({ type: 'layer', id: 'x', kind: 'pip', status: 'empty', ms: 0 }),
    'layer x: nothing to add',
  );
});

test('json: every event is one parseable line with a timestamp', () => {
  const { out, stream } = sink(true);
  const p = createProgress('json', stream);
  for (const e of events) p.emit(e);
  const parsed = out.map((l) => JSON.parse(l));
  assert.equal(parsed.length, events.length);
  parsed.forEach((e, i) => {
    assert.equal(typeof e.time, 'number');
    assert.deepEqual({ ...e, time: undefined }, { ...events[i], time: undefined });
  });
});

test('auto on a TTY redraws live lines in place and leaves the finished ones', () => {
  const { out, stream } = sink(true);
  const p = createProgress('auto', stream);
  for (const e of events) p.emit(e);
  p.close();
  const text = out.join('');
  assert.match(text, /building code/);
  assert.match(text, /\x1b\[\d+A\x1b\[J/, 'cursor up + clear to redraw');
  assert.match(text, /layer code: built/);
});

test('live lines: a bar, percent and bytes per layer being built or blob being uploaded', () => {
  assert.equal(
    liveLine({ type: 'bytes', id: 'code', stage: 'build', bytes: 12 << 20, total: 32 << 20 }),
    'building  code  [#########---------------]  37%  12.0 MiB / 32.0 MiB',
  );
  assert.equal(
    liveLine({ type: 'bytes', id: 'runtime', stage: 'upload', bytes: 40, total: 40 }),
    'uploading runtime  [########################] 100%  40 B / 40 B',
  );
  assert.equal(liveLine({ type: 'bytes', id: 'pip', stage: 'build', bytes: 2048 }), 'building  pip  2.0 KiB');
});

test('summary lines', () => {
  const lines = summaryLines({
    layers: { built: 1, cached: 4, remote: 0, empty: 1 },
    blobs: { uploaded: 2, mounted: 1, exists: 5 },
    bytes: { uploaded: 1024, skipped: 1024 ** 3 },
    phases: { layers: 1200, push: 300 },
    totalMs: 1600,
  });
  assert.deepEqual(lines, [
    'layers: 1 built, 4 cached, 0 from the registry cache',
    'blobs: 2 uploaded, 1 mounted, 5 already there; 1.0 KiB uploaded, 1.0 GiB skipped',
    'time: 1.60s (layers 1.20s, push 0.30s)',
  ]);
});
