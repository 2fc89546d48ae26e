/**
 * Build-time OpenAPI schema: predict.py read with a Python parser (no interpreter), producing the
 * same document the running model serves at /openapi.json (src/python/cog/schema.py reports the
 * components, src/server/openapi.ts wraps them). Whatever cannot be known without running the
 * file is an E_SCHEMA error naming file:line:column, never a guessed schema.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CogtsError } from '../errors.js';
import { buildOpenApiDocument, type ComponentSchemas } from '../server/openapi.js';
import { specOf } from './annotations.js';
import { inputSchema, type JsonObject, outputSchema } from './json-schema.js';
import { ModuleScope } from './module-scope.js';
import { readSource } from './source.js';
import { findEntry, inputParams, returnAnnotation } from './target.js';

export type { JsonObject } from './json-schema.js';

export type TargetKind = 'predict' | 'train';

export interface StaticTargetOptions {
  kind: TargetKind;
  /** cog.yaml build.python_version ("3.11", "3.8.10"): rejects annotations that Python cannot evaluate. */
  pythonVersion?: string;
}

/** What the runtime's schema frame says about one target (src/python/cog/runner.py schema_frame). */
export interface StaticTargetSchema {
  /** `Input` (predict) or `TrainingInput` (train) component schema. */
  input: JsonObject;
  /** `Output` / `TrainingOutput` component schema. */
  output: JsonObject;
  /** @streaming, or an iterator output: the server accepts SSE clients. */
  streaming: boolean;
  /** `async def`. */
  async: boolean;
  /** @cog.concurrent(max=N), when present. */
  concurrency?: number;
}

export type StaticOpenApiOptions = {
  /** The cogts version the image's server reports (info.version of the document). */
  version: string;
  pythonVersion?: string;
} & (
  | {
      kind: 'predict' /** cog.yaml `train`, when set: adds the training components and paths. */;
      train?: string;
    }
  | {
      kind: 'train' /** cog.yaml `predict`/`run`: the document always describes the predictor. */;
      predict: string;
    }
);

/** "predict.py:Predictor" -> the file (relative to projectDir) and the name in it, as loader.py reads it. */
function splitRef(projectDir: string, ref: string): { file: string; display: string; name: string } {
  const colon = ref.indexOf(':');
  const moduleRef = colon === -1 ? '' : ref.slice(0, colon);
  const name = colon === -1 ? '' : ref.slice(colon + 1);
  if (!moduleRef || !name) {
    throw new CogtsError('E_SCHEMA', `${JSON.stringify(ref)} must look like predict.py:Predictor`, {
      hint: 'cog.yaml predict/run/train: "<file>.py:<ClassOrFunction>"',
    });
  }
  const display = moduleRef.endsWith('.py') ? moduleRef : moduleRef.replace(/\./g, '/') + '.py';
  const file = join(projectDir, display);
  if (!moduleRef.endsWith('.py') && !existsSync(file)) {
    throw new CogtsError(
      'E_SCHEMA',
      `${JSON.stringify(ref)}: module ${moduleRef} is not a file of the project (${display})`,
      {
        hint: 'name the file directly, e.g. "predict.py:Predictor"',
      },
    );
  }
  return { file, display, name };
}

function pythonMinor(version: string | undefined): number | undefined {
  const m = version ? /^3\.(\d+)/.exec(version) : null;
  return m ? Number(m[1]) : undefined;
}

/** One target's component schemas and flags, read from source. Throws CogtsError E_SCHEMA. */
export function staticTargetSchema(
  projectDir: string,
  ref: string,
  options: StaticTargetOptions,
): StaticTargetSchema {
  const { file, display, name } = splitRef(projectDir, ref);
  const scope = new ModuleScope(readSource(file, display));
  const entry = findEntry(scope, name, options.kind, ref);
  const minor = pythonMinor(options.pythonVersion);
  const params = inputParams(scope, entry, minor);
  const ret = returnAnnotation(entry.def);
  const outSpec = specOf({ scope, where: 'return type', pythonMinor: minor }, ret);
  const train = options.kind === 'train';
  const result: StaticTargetSchema = {
    input: inputSchema(scope, params, train ? 'TrainingInput' : 'Input'),
    output: outputSchema(scope, outSpec, train ? 'TrainingOutput' : 'Output', ret ?? entry.def),
    streaming: entry.streamingDecorator || outSpec.kind === 'iterator',
    async: entry.isAsync,
  };
  if (entry.concurrency !== undefined) result.concurrency = entry.concurrency;
  return result;
}

/**
 * The whole OpenAPI document GET /openapi.json serves for this model, byte for byte
 * (JSON.stringify of both is equal). `ref` is the target of `options.kind`; the document always
 * has the predictor, and the trainer when cog.yaml has one.
 */
export function staticOpenApiSchema(
  projectDir: string,
  ref: string,
  options: StaticOpenApiOptions,
): Record<string, unknown> {
  const predictRef = options.kind === 'predict' ? ref : options.predict;
  const trainRef = options.kind === 'train' ? ref : options.train;
  const p = staticTargetSchema(projectDir, predictRef, {
    kind: 'predict',
    pythonVersion: options.pythonVersion,
  });
  const components: ComponentSchemas = { input: p.input, output: p.output };
  if (trainRef) {
    const t = staticTargetSchema(projectDir, trainRef, {
      kind: 'train',
      pythonVersion: options.pythonVersion,
    });
    components.trainingInput = t.input;
    components.trainingOutput = t.output;
  }
  return buildOpenApiDocument(components, options.version);
}
