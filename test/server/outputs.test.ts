import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { getJson, httpServer, type Model, postJson, readSse, serveModel } from './harness.js';

const dataUrl = (text: string, mime = 'text/plain') =>
  `data:${mime};base64,${Buffer.from(text).toString('base64')}`;
const decode = (url: string) => Buffer.from(url.split(',')[1]!, 'base64').toString();

describe('file inputs and outputs', () => {
  let m: Model;
  let files: Awaited<ReturnType<typeof httpServer>>;
  const uploads = new Map<string, { body: string; type: string | undefined }>();
  before(async () => {
    files = await httpServer((req, res, body) => {
      if (req.method === 'GET' && req.url === '/cat.txt') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('downloaded cat');
      } else if (req.method === 'PUT') {
        uploads.set(req.url!, { body: body.toString(), type: req.headers['content-type'] });
        res.writeHead(201, { location: `/stored${req.url}` }).end();
      } else res.writeHead(404).end();
    });
    m = await serveModel('files', 'predict.py:Predictor');
  });
  after(async () => {
    await m.close();
    await files.close();
  });

  test('data: and http:// inputs arrive as files; Path outputs come back as data URLs', async () => {
    const r = await postJson(`${m.url}/predictions`, {
      input: {
        image: dataUrl('hello'),
        extras: [`${files.url}/cat.txt`, dataUrl('xy')],
        legacy: dataUrl('legacy!'),
      },
    });
    assert.equal(r.body.status, 'succeeded', r.body.logs);
    const [rev, size] = r.body.output as string[];
    assert.match(rev!, /^data:text\/plain;base64,/);
    assert.equal(decode(rev!), 'olleh');
    assert.equal(decode(size!), '5');
    assert.match(r.body.logs, /extra .*cat\.txt 14/);
    assert.match(r.body.logs, /legacy file bytes 7/);
  });

  test('an unreachable input URL fails the prediction with a message naming the input', async () => {
    const r = await postJson(`${m.url}/predictions`, { input: { image: `${files.url}/missing.png` } });
    assert.equal(r.body.status, 'failed');
    assert.match(r.body.error, /image.*404/);
  });

  test('output_file_prefix uploads files by PUT and returns the Location URL', async () => {
    const r = await postJson(`${m.url}/predictions`, {
      input: { image: dataUrl('abc') },
      output_file_prefix: `${files.url}/bucket/`,
    });
    assert.equal(r.body.status, 'succeeded');
    assert.deepEqual(r.body.output, [
      `${files.url}/stored/bucket/reversed.txt`,
      `${files.url}/stored/bucket/size.txt`,
    ]);
    assert.deepEqual(uploads.get('/bucket/reversed.txt'), { body: 'cba', type: 'text/plain' });
  });
});

describe('object (BaseModel) output with a file field', () => {
  test('fields come back as an object; the Path field as a data URL', async () => {
    const m = await serveModel('base-model', 'predict.py:Predictor');
    try {
      const r = await postJson(`${m.url}/predictions`, { input: { label: 'dog' } });
      assert.equal(r.body.status, 'succeeded');
      assert.equal(r.body.output.label, 'dog');
      assert.equal(r.body.output.score, 0.9);
      assert.equal(r.body.output.note, null);
      assert.equal(decode(r.body.output.mask), 'mask for dog');
    } finally {
      await m.close();
    }
  });
});

describe('iterator outputs, metrics and SSE', () => {
  test('an Iterator[int] output is the list of yields; metrics accumulate by mode', async () => {
    const m = await serveModel('iterator', 'predict.py:Predictor');
    try {
      const r = await postJson(`${m.url}/predictions`, { input: { n: 4 } });
      assert.equal(r.body.status, 'succeeded');
      assert.deepEqual(r.body.output, [0, 1, 4, 9]);
      assert.equal(r.body.metrics.items, 4);
      assert.deepEqual(r.body.metrics.seen, [0, 1, 2, 3]);
      assert.equal(r.body.logs, 'yielding 0\nyielding 1\nyielding 2\nyielding 3\n');
      const doc = await getJson(`${m.url}/openapi.json`);
      assert.equal(doc.components.schemas.Output['x-cog-array-type'], 'iterator');
    } finally {
      await m.close();
    }
  });

  test('an async generator of Paths streams files over SSE and ends with the list of data URLs', async () => {
    const m = await serveModel('async-iterator', 'predict.py:Predictor', { concurrency: 2 });
    try {
      const res = await fetch(`${m.url}/predictions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({ input: { n: 2 } }),
      });
      const events = await readSse(res);
      const chunks = events.filter((e) => e.event === 'output').map((e) => decode(e.data.chunk));
      assert.deepEqual(chunks, ['chunk 0', 'chunk 1']);
      const final = events.at(-1)!.data;
      assert.equal(final.status, 'succeeded');
      assert.deepEqual(final.output.map(decode), ['chunk 0', 'chunk 1']);
      assert.equal(final.metrics.chunks, 2);
      const metrics = events.filter((e) => e.event === 'metric').map((e) => e.data);
      assert.deepEqual(metrics.at(-1), { name: 'chunks', value: 2 });
    } finally {
      await m.close();
    }
  });

  test('a @streaming ConcatenateIterator model streams start/output/log/completed over SSE', async () => {
    const m = await serveModel('streaming', 'predict.py:Predictor');
    try {
      const res = await fetch(`${m.url}/predictions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({ input: { prompt: 'one two three', delay: 0.02 } }),
      });
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
      const events = await readSse(res);
      assert.equal(events[0]!.event, 'start');
      assert.equal(events.at(-1)!.event, 'completed');
      const outputs = events.filter((e) => e.event === 'output').map((e) => e.data);
      assert.deepEqual(outputs, [
        { chunk: 'one ', index: 0 },
        { chunk: 'two ', index: 1 },
        { chunk: 'three ', index: 2 },
      ]);
      const logs = events.filter((e) => e.event === 'log').map((e) => e.data);
      assert.deepEqual(logs[0], { source: 'stdout', data: 'token one\n' });
      const final = events.at(-1)!.data;
      assert.equal(final.status, 'succeeded');
      assert.deepEqual(final.output, ['one ', 'two ', 'three ']);
      const doc = await getJson(`${m.url}/openapi.json`);
      assert.equal(doc.components.schemas.Output['x-cog-array-display'], 'concatenate');
    } finally {
      await m.close();
    }
  });
});
