import type { Config } from '../config/types.js';
import { CogtsError } from '../errors.js';
import type { RunningServer, ServerOptions } from './server.js';

/**
 * The ServerOptions a cog.yaml implies: predictor/trainer refs, concurrency, and `environment:`
 * entries added to the runner's environment (process env wins, as in an image where the entries
 * are baked into Env and `docker run -e` overrides them).
 */
export function serverOptionsFromConfig(
  config: Config,
  env: NodeJS.ProcessEnv = process.env,
): Pick<ServerOptions, 'projectDir' | 'predict' | 'train' | 'concurrency' | 'env'> {
  if (!config.predict) {
    throw new CogtsError('E_NO_PREDICTOR', `${config.file} has no predict: (or run:) entry`, {
      hint: 'add `predict: "predict.py:Predictor"` to cog.yaml',
    });
  }
  const runnerEnv: NodeJS.ProcessEnv = {};
  for (const [k, v] of config.environment) runnerEnv[k] = v;
  Object.assign(runnerEnv, env);
  return {
    projectDir: config.projectDir,
    predict: config.predict,
    ...(config.train ? { train: config.train } : {}),
    ...(config.concurrency ? { concurrency: config.concurrency.max } : {}),
    env: runnerEnv,
  };
}

type FromConfig = ReturnType<typeof serverOptionsFromConfig>;

/**
 * Starts the prediction server for a cog.yaml (`cogts serve`, `cogts predict`). Express and the
 * worker are loaded here, not when the CLI starts: every other command would pay for them.
 */
export async function startServerForConfig(
  config: Config,
  opts: Omit<ServerOptions, keyof FromConfig>,
): Promise<RunningServer> {
  const { startServer } = await import('./server.js');
  return startServer({ ...serverOptionsFromConfig(config), ...opts });
}
