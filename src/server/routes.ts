import express, { type NextFunction, type Request, type Response } from 'express';
import { jsonBody, parseByteLimit } from './json-body.js';
import type { Logger } from './log.js';
import { buildOpenApiDocument } from './openapi.js';
import type { Prediction, PredictionResponse } from './prediction.js';
import type { CreateRequest, PredictionService } from './service.js';

export interface AppContext {
  service: PredictionService;
  logger: Logger;
  version: string;
  /** Called by POST /shutdown (the server drains, then exits or closes). */
  requestShutdown: () => void;
  /** Body size limit (Cog: 100 MiB). */
  bodyLimit: string | number;
}

const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache',
  connection: 'keep-alive',
};

/** The Cog HTTP API as an Express app (no listening here: see startServer). */
export function createApp(ctx: AppContext): express.Express {
  const { service } = ctx;
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('json spaces', 0);
  const json = jsonBody(parseByteLimit(ctx.bodyLimit));

  app.get('/', (_req, res) => {
    const doc: Record<string, unknown> = {
      cog_version: ctx.version,
      docs_url: '/docs',
      openapi_url: '/openapi.json',
      shutdown_url: '/shutdown',
      healthcheck_url: '/health-check',
      predictions_url: '/predictions',
      predictions_idempotent_url: '/predictions/{prediction_id}',
      predictions_cancel_url: '/predictions/{prediction_id}/cancel',
    };
    if (service.schema?.trainingInput) {
      doc.trainings_url = '/trainings';
      doc.trainings_idempotent_url = '/trainings/{training_id}';
      doc.trainings_cancel_url = '/trainings/{training_id}/cancel';
    }
    res.json(doc);
  });

  app.get('/health-check', async (_req, res) => {
    const h = await service.health();
    res.json({
      status: h.status,
      setup: service.setup,
      concurrency: { max: service.slots },
      version: { cogts: ctx.version, python: service.schema?.pythonVersion ?? null },
      ...(h.user_healthcheck_error ? { user_healthcheck_error: h.user_healthcheck_error } : {}),
    });
  });

  app.get('/openapi.json', (_req, res) => {
    const s = service.schema;
    if (!s) {
      res.status(503).json({ detail: `the model has not reported its schema (${service.basicStatus()})` });
      return;
    }
    res.json(buildOpenApiDocument(s, ctx.version));
  });

  for (const kind of ['predictions', 'trainings'] as const) {
    const train = kind === 'trainings';
    app.post(`/${kind}`, json, (req, res) => create(req, res, train, undefined));
    app.put(`/${kind}/:id`, json, (req, res) => create(req, res, train, String(req.params.id)));
    app.post(`/${kind}/:id/cancel`, (req, res) => {
      if (service.cancel(String(req.params.id))) res.json({});
      else res.status(404).json({ detail: 'Not found' });
    });
  }

  app.post('/shutdown', (_req, res) => {
    res.json({});
    ctx.requestShutdown();
  });

  function create(req: Request, res: Response, train: boolean, id: string | undefined): void {
    const body = req.body as Record<string, unknown> | undefined;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      res
        .status(422)
        .json({ detail: [{ loc: ['body'], msg: 'Input should be a valid dictionary', type: 'dict_type' }] });
      return;
    }
    const wantsSse = (req.headers.accept ?? '').includes('text/event-stream');
    if (wantsSse && !service.schema?.streaming) {
      res
        .status(406)
        .json({ detail: 'this model does not stream: Accept: text/event-stream is not available' });
      return;
    }
    const request: CreateRequest = { train, input: body.input };
    if (id !== undefined) request.id = id;
    else if (typeof body.id === 'string' && body.id) request.id = body.id;
    if (typeof body.webhook === 'string') request.webhook = body.webhook;
    if (Array.isArray(body.webhook_events_filter))
      request.webhook_events_filter = body.webhook_events_filter as string[];
    if (typeof body.output_file_prefix === 'string') request.output_file_prefix = body.output_file_prefix;
    const tp = req.headers.traceparent;
    if (typeof tp === 'string') request.traceparent = tp;

    const r = service.create(request);
    switch (r.kind) {
      case 'not_ready':
        res.status(503).json({ detail: `the model is not ready (${r.status})` });
        return;
      case 'unsupported':
        res.status(404).json({ detail: r.message });
        return;
      case 'invalid':
        res.status(422).json({ detail: r.issues });
        return;
      case 'busy':
        res.status(409).json({ detail: `all ${service.slots} prediction slot(s) are busy` });
        return;
      case 'completed':
        res.status(200).json(r.response);
        return;
    }
    const p = r.prediction;
    if (wantsSse) {
      stream(res, p, r.kind === 'created');
      return;
    }
    if ((req.headers.prefer ?? '').includes('respond-async')) {
      res.status(202).json(p.snapshot());
      return;
    }
    p.result.then((final) => res.status(200).json(final));
  }

  function stream(res: Response, p: Prediction, owner: boolean): void {
    res.writeHead(200, SSE_HEADERS);
    const send = (event: string, data: unknown): void => {
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    send('start', p.snapshot());
    if (Array.isArray(p.state.output)) {
      for (const [index, chunk] of p.state.output.entries()) send('output', { chunk, index });
    }
    const onOutput = (chunk: unknown, index: number) => send('output', { chunk, index });
    const onLog = (source: string, data: string) => send('log', { source, data });
    const onMetric = (name: string, value: unknown) => send('metric', { name, value });
    const onCompleted = (final: PredictionResponse) => {
      send('completed', final);
      res.end();
    };
    p.on('output', onOutput).on('log', onLog).on('metric', onMetric);
    p.once('completed', onCompleted);
    if (p.done) onCompleted(p.snapshot());
    // res 'close' (not req's, which fires once the body is read) tells a client disconnect.
    res.on('close', () => {
      p.off('output', onOutput).off('log', onLog).off('metric', onMetric).off('completed', onCompleted);
      // A streaming client that goes away no longer wants the work (only the one that started it).
      if (owner && !p.done && !res.writableFinished) service.cancel(p.id);
    });
  }

  app.use((_req, res) => {
    res.status(404).json({ detail: 'Not Found' });
  });

  app.use(
    (
      err: { type?: string; status?: number; message?: string },
      _req: Request,
      res: Response,
      _next: NextFunction,
    ) => {
      if (err.type === 'entity.too.large') {
        res.status(413).json({ detail: `request body is larger than ${ctx.bodyLimit}` });
      } else if (err.type === 'entity.parse.failed') {
        res.status(400).json({ detail: `invalid JSON: ${err.message ?? ''}` });
      } else if (err.status && err.status < 500) {
        res.status(err.status).json({ detail: err.message ?? 'bad request' });
      } else {
        ctx.logger.error('request failed', { error: String(err) });
        res.status(500).json({ detail: 'internal server error' });
      }
    },
  );
  return app;
}
