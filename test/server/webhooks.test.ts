import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { httpServer, type Model, postJson, serveModel, waitFor } from './harness.js';

interface Hook {
  status: string;
  output: unknown;
  logs: string;
  at: number;
  accepted: boolean;
}

describe('webhooks', () => {
  let m: Model;
  let receiver: Awaited<ReturnType<typeof httpServer>>;
  const hooks = new Map<string, Hook[]>();
  let terminalFailures = 0;
  before(async () => {
    receiver = await httpServer((req, res, body) => {
      const id = req.url!.slice(1);
      const p = JSON.parse(body.toString()) as Hook;
      const list = hooks.get(id) ?? [];
      const terminal = ['succeeded', 'failed', 'canceled'].includes(p.status);
      // The receiver fails the first two deliveries of every terminal webhook.
      const accept = !terminal || terminalFailures++ % 3 === 2;
      list.push({ ...p, at: Date.now(), accepted: accept });
      hooks.set(id, list);
      res.writeHead(accept ? 200 : 503).end();
    });
    m = await serveModel('iterator', 'predict.py:Predictor');
  });
  after(async () => {
    await m.close();
    await receiver.close();
  });

  test('start, throttled output/logs, and a completed webhook retried until accepted', async () => {
    const r = await postJson(
      `${m.url}/predictions`,
      { id: 'wh-1', input: { n: 12, delay: 0.05 }, webhook: `${receiver.url}/wh-1` },
      { prefer: 'respond-async' },
    );
    assert.equal(r.status, 202);
    const list = await waitFor('terminal webhook accepted', () => {
      const l = hooks.get('wh-1');
      return l?.some((h) => h.status === 'succeeded' && h.accepted) ? l : undefined;
    });
    assert.equal(list[0]!.status, 'processing', 'start comes first');
    const terminal = list.filter((h) => h.status === 'succeeded');
    assert.deepEqual(
      terminal.map((h) => h.accepted),
      [false, false, true],
    );
    assert.deepEqual(terminal[2]!.output, [0, 1, 4, 9, 16, 25, 36, 49, 64, 81, 100, 121]);
    const intermediate = list.filter((h) => h.status === 'processing').slice(1);
    assert.ok(intermediate.length >= 1, 'some output/logs webhooks');
    // 12 yields would be 24 output/logs events unthrottled; at most one per 500 ms gets through.
    const span = terminal[0]!.at - list[0]!.at;
    assert.ok(
      intermediate.length <= Math.ceil(span / 500) + 1,
      `throttled: ${intermediate.length} in ${span} ms`,
    );
    assert.ok(intermediate.length < 24);
    for (let i = 1; i < intermediate.length; i++)
      assert.ok(intermediate[i]!.at - intermediate[i - 1]!.at >= 450);
    // Terminal webhook is last: nothing arrives after it.
    assert.equal(list.at(-1)!.status, 'succeeded');
  });

  test('webhook_events_filter: only completed', async () => {
    const r = await postJson(`${m.url}/predictions`, {
      id: 'wh-2',
      input: { n: 3 },
      webhook: `${receiver.url}/wh-2`,
      webhook_events_filter: ['completed'],
    });
    assert.equal(r.body.status, 'succeeded');
    const list = await waitFor('accepted', () => {
      const l = hooks.get('wh-2');
      return l?.some((h) => h.accepted) ? l : undefined;
    });
    assert.ok(list.every((h) => h.status === 'succeeded'));
  });
});
