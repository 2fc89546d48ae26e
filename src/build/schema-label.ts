import { cogtsVersion } from '../cli/common.js';
import type { Config } from '../config/types.js';
import { CogtsError } from '../errors.js';
import { staticOpenApiSchema } from '../schema/index.js';

/**
 * The `run.cog.openapi_schema` label: the document the image's server will serve at
 * /openapi.json, computed from predict.py with a parser (no Python on the build machine).
 */
export async function openApiLabel(config: Config): Promise<Record<string, unknown>> {
  if (!config.predict) {
    throw new CogtsError(
      'E_CONFIG',
      `${config.file}: no predict (or run) entry; the image would have nothing to serve`,
      {
        hint: 'add predict: "predict.py:Predictor"',
      },
    );
  }
  return staticOpenApiSchema(config.projectDir, config.predict, {
    kind: 'predict',
    version: cogtsVersion(),
    ...(config.build.pythonVersion ? { pythonVersion: config.build.pythonVersion } : {}),
    ...(config.train ? { train: config.train } : {}),
  });
}
