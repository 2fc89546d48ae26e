import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import SwaggerParser from '@apidevtools/swagger-parser';
import { getJson, type Model, postJson, serveModel } from './harness.js';

describe('typed inputs model: discovery, OpenAPI, validation', () => {
  let m: Model;
  before(async () => {
    m = await serveModel('typed-inputs', 'predict.py:Predictor', { bodyLimit: '64kb' });
  });
  after(() => m.close());

  test('GET / lists the API and /health-check is READY with setup info', async () => {
    const root = await getJson(`${m.url}/`);
    assert.equal(root.predictions_url, '/predictions');
    assert.equal(root.predictions_cancel_url, '/predictions/{prediction_id}/cancel');
    assert.equal(root.trainings_url, undefined);
    const h = await getJson(`${m.url}/health-check`);
    assert.equal(h.status, 'READY');
    assert.equal(h.setup.status, 'succeeded');
    assert.ok(h.setup.completed_at);
  });

  test('/openapi.json is a valid OpenAPI 3 document with Cog component names and x-order', async () => {
    const doc = await getJson(`${m.url}/openapi.json`);
    await SwaggerParser.validate(structuredClone(doc));
    const s = doc.components.schemas;
    for (const name of ['Input', 'Output', 'PredictionRequest', 'PredictionResponse', 'Status'])
      assert.ok(s[name], name);
    assert.deepEqual(Object.keys(s.Input.properties), [
      'text',
      'count',
      'scale',
      'flag',
      'color',
      'size',
      'tags',
      'numbers',
      'maybe',
      'token',
      'code',
      'legacy',
      'keys',
    ]);
    assert.deepEqual(s.Input.required, ['text', 'token']);
    assert.deepEqual(s.Input.properties.count, {
      title: 'Count',
      type: 'integer',
      default: 2,
      description: 'How many times',
      minimum: 1,
      maximum: 10,
      'x-order': 1,
    });
    assert.deepEqual(s.Input.properties.color.enum, ['red', 'green', 'blue']);
    assert.deepEqual(s.Input.properties.size, {
      title: 'Size',
      type: 'string',
      enum: ['s', 'm', 'l'],
      default: 'm',
      'x-order': 5,
    });
    assert.deepEqual(s.Input.properties.tags, {
      title: 'Tags',
      type: 'array',
      items: { type: 'string' },
      default: [],
      maxItems: 3,
      'x-order': 6,
    });
    assert.equal(s.Input.properties.maybe.nullable, true);
    assert.deepEqual(s.Input.properties.token, {
      title: 'Token',
      type: 'string',
      format: 'password',
      description: 'API token',
      writeOnly: true,
      'x-cog-secret': true,
      'x-order': 9,
    });
    assert.equal(s.Input.properties.code.pattern, '^[a-z]+[0-9]+$');
    assert.equal(s.Input.properties.legacy.deprecated, true);
    assert.equal(s.Output.type, 'object');
    assert.deepEqual(s.Output.properties.maybe, {
      title: 'Maybe',
      type: 'string',
      nullable: true,
      'x-order': 8,
    });
    assert.equal(s.PredictionResponse.properties.output.$ref, '#/components/schemas/Output');
  });

  test('a valid prediction succeeds, fills defaults, drops unknown fields and masks the secret', async () => {
    const r = await postJson(`${m.url}/predictions`, {
      input: {
        text: 'ab',
        count: 3,
        token: 'hunter22',
        keys: ['swordfish', 'opensesame'],
        tags: ['x'],
        unknown_field: 1,
        maybe: null,
      },
    });
    assert.equal(r.status, 200);
    assert.equal(r.body.status, 'succeeded');
    assert.equal(r.body.output.text, 'ababab');
    assert.equal(r.body.output.size, 'm');
    assert.deepEqual(r.body.output.numbers, [1, 2]);
    assert.equal(r.body.output.token_length, 8);
    assert.equal(r.body.input.token, '**********');
    assert.deepEqual(r.body.input.keys, ['**********', '**********'], 'each Secret in a list is masked');
    assert.equal('unknown_field' in r.body.input, false);
    const nulls = await postJson(`${m.url}/predictions`, {
      input: { text: 'a', token: 't', count: null, size: null },
    });
    assert.equal(nulls.body.status, 'succeeded', JSON.stringify(nulls.body));
    assert.equal(nulls.body.output.count, 2, 'null for a field with a default means the default');
    assert.doesNotMatch(JSON.stringify(r.body), /hunter22|swordfish|opensesame/);
    assert.match(r.body.logs, /token is \*{10}/);
    assert.equal(typeof r.body.metrics.predict_time, 'number');
  });

  test('422 names every bad field in Cog detail format', async () => {
    const r = await postJson(`${m.url}/predictions`, {
      input: {
        text: '',
        count: 11,
        scale: 'big',
        color: 'pink',
        size: 'xl',
        tags: ['a', 'b', 'c', 'd'],
        code: 'A1',
      },
    });
    assert.equal(r.status, 422);
    const fields = new Set(r.body.detail.map((d: { loc: string[] }) => d.loc.join('.')));
    for (const f of ['text', 'count', 'scale', 'color', 'size', 'tags', 'code', 'token']) {
      assert.ok(fields.has(`body.input.${f}`), `missing ${f} in ${JSON.stringify(r.body.detail)}`);
    }
    const missing = r.body.detail.find((d: { loc: string[] }) => d.loc[2] === 'token');
    assert.deepEqual(missing, { loc: ['body', 'input', 'token'], msg: 'Field required', type: 'missing' });
  });

  test('bad JSON is 400, an oversized body 413, a non-object input 422, unknown routes 404', async () => {
    assert.equal((await postJson(`${m.url}/predictions`, '{"input": ')).status, 400);
    assert.equal(
      (await postJson(`${m.url}/predictions`, { input: { text: 'x'.repeat(70_000) } })).status,
      413,
    );
    const bad = await postJson(`${m.url}/predictions`, { input: [1] });
    assert.equal(bad.status, 422);
    assert.deepEqual(bad.body.detail[0].loc, ['body', 'input']);
    assert.equal((await fetch(`${m.url}/nope`)).status, 404);
  });

  test('SSE is refused with 406 for a model that does not stream', async () => {
    const r = await postJson(
      `${m.url}/predictions`,
      { input: { text: 'a', token: 't' } },
      { accept: 'text/event-stream' },
    );
    assert.equal(r.status, 406);
  });
});
