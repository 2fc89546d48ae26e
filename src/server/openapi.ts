/**
 * The OpenAPI document around the predictor's `Input`/`Output` component schemas. Pure and
 * deterministic: a static generator that derives the components from predict.py without Python
 * calls this same function, so both paths serve byte-identical documents (src/python/cog/SCHEMA.md).
 */
export interface ComponentSchemas {
  input: Record<string, unknown>;
  output: Record<string, unknown>;
  trainingInput?: Record<string, unknown>;
  trainingOutput?: Record<string, unknown>;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

function requestSchema(title: string, input: string) {
  return {
    title,
    type: 'object',
    properties: {
      id: { title: 'Id', type: 'string' },
      input: ref(input),
      webhook: { title: 'Webhook', type: 'string', format: 'uri', minLength: 1, maxLength: 65536 },
      webhook_events_filter: {
        type: 'array',
        items: ref('WebhookEvent'),
        default: ['start', 'output', 'logs', 'completed'],
      },
      output_file_prefix: { title: 'Output File Prefix', type: 'string' },
      created_at: { title: 'Created At', type: 'string', format: 'date-time' },
    },
  };
}

function responseSchema(title: string, input: string, output: string) {
  const dt = (t: string) => ({ title: t, type: 'string', format: 'date-time', nullable: true });
  return {
    title,
    type: 'object',
    properties: {
      id: { title: 'Id', type: 'string' },
      input: ref(input),
      output: ref(output),
      status: ref('Status'),
      logs: { title: 'Logs', type: 'string', default: '' },
      error: { title: 'Error', type: 'string', nullable: true },
      metrics: { title: 'Metrics', type: 'object' },
      created_at: dt('Created At'),
      started_at: dt('Started At'),
      completed_at: dt('Completed At'),
    },
  };
}

function json(schemaRef: unknown) {
  return { 'application/json': { schema: schemaRef } };
}

function operationsFor(kind: 'predictions' | 'trainings', req: string, res: string) {
  const idParam = {
    name: `${kind === 'predictions' ? 'prediction' : 'training'}_id`,
    in: 'path',
    required: true,
    schema: { type: 'string' },
  };
  const write = (summary: string, params: unknown[]) => ({
    summary,
    parameters: [
      ...params,
      {
        name: 'prefer',
        in: 'header',
        required: false,
        schema: { type: 'string' },
        description: '`respond-async` answers 202 at once',
      },
    ],
    requestBody: { content: json(ref(req)) },
    responses: {
      '200': { description: 'Successful Response', content: json(ref(res)) },
      '202': { description: 'Accepted (Prefer: respond-async)', content: json(ref(res)) },
      '409': { description: 'All slots are busy' },
      '422': { description: 'Validation Error', content: json(ref('HTTPValidationError')) },
    },
  });
  const singular = kind === 'predictions' ? 'prediction' : 'training';
  return {
    [`/${kind}`]: { post: write(`Create a ${singular}`, []) },
    [`/${kind}/{${idParam.name}}`]: { put: write(`Create a ${singular} (idempotent)`, [idParam]) },
    [`/${kind}/{${idParam.name}}/cancel`]: {
      post: {
        summary: `Cancel a ${singular}`,
        parameters: [idParam],
        responses: { '200': { description: 'Canceled' }, '404': { description: 'Unknown id' } },
      },
    },
  };
}

export function buildOpenApiDocument(c: ComponentSchemas, version: string): Record<string, unknown> {
  const paths: Record<string, unknown> = {
    '/': { get: { summary: 'Root', responses: { '200': { description: 'Discovery document' } } } },
    '/health-check': { get: { summary: 'Healthcheck', responses: { '200': { description: 'Health' } } } },
    ...operationsFor('predictions', 'PredictionRequest', 'PredictionResponse'),
    '/shutdown': {
      post: { summary: 'Start Shutdown', responses: { '200': { description: 'Shutting down' } } },
    },
  };
  const schemas: Record<string, unknown> = {
    Input: c.input,
    Output: c.output,
    PredictionRequest: requestSchema('PredictionRequest', 'Input'),
    PredictionResponse: responseSchema('PredictionResponse', 'Input', 'Output'),
  };
  if (c.trainingInput && c.trainingOutput) {
    Object.assign(paths, operationsFor('trainings', 'TrainingRequest', 'TrainingResponse'));
    schemas.TrainingInput = c.trainingInput;
    schemas.TrainingOutput = c.trainingOutput;
    schemas.TrainingRequest = requestSchema('TrainingRequest', 'TrainingInput');
    schemas.TrainingResponse = responseSchema('TrainingResponse', 'TrainingInput', 'TrainingOutput');
  }
  schemas.Status = {
    title: 'Status',
    description: 'An enumeration.',
    type: 'string',
    enum: ['starting', 'processing', 'succeeded', 'canceled', 'failed'],
  };
  schemas.WebhookEvent = {
    title: 'WebhookEvent',
    description: 'An enumeration.',
    type: 'string',
    enum: ['start', 'output', 'logs', 'completed'],
  };
  schemas.ValidationError = {
    title: 'ValidationError',
    type: 'object',
    required: ['loc', 'msg', 'type'],
    properties: {
      loc: { title: 'Location', type: 'array', items: { anyOf: [{ type: 'string' }, { type: 'integer' }] } },
      msg: { title: 'Message', type: 'string' },
      type: { title: 'Error Type', type: 'string' },
    },
  };
  schemas.HTTPValidationError = {
    title: 'HTTPValidationError',
    type: 'object',
    properties: { detail: { title: 'Detail', type: 'array', items: ref('ValidationError') } },
  };
  return { openapi: '3.0.2', info: { title: 'Cog', version }, paths, components: { schemas } };
}
