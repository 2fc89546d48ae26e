/**
 * The in-image entrypoint (bundled into /opt/cogts/server.mjs; runs as PID 1): read cog.yaml from
 * the working directory (/src), serve on $PORT, drain on SIGTERM/SIGINT or POST /shutdown, exit.
 *
 * Environment: PORT (5000), HOST (0.0.0.0), COG_LOG_LEVEL (info), COG_MAX_CONCURRENCY,
 * COGTS_PYTHON (python3), COGTS_COG_PACKAGE_DIR (folder holding the `cog` package; default: next
 * to this file, else whatever PYTHONPATH provides), COGTS_UPLOAD_URL, COG_WEIGHTS,
 * COGTS_SHUTDOWN_GRACE_S (30), COG_YAML (cog.yaml).
 */
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../config/load.js';
import { isCogtsError } from '../errors.js';
import { serverOptionsFromConfig } from './from-config.js';
import { type RunningServer, startServer } from './server.js';

export async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  let server: RunningServer | undefined;
  let exiting = false;
  const exit = (code: number) => {
    if (exiting) return;
    exiting = true;
    void (server ? server.close() : Promise.resolve()).finally(() => process.exit(code));
  };
  // PID 1 gets no default signal handlers from the kernel: without these, `docker stop` waits
  // for its timeout and SIGKILLs the container mid-prediction.
  process.on('SIGTERM', () => exit(0));
  process.on('SIGINT', () => exit(0));

  const config = await loadConfig(env.COG_YAML ?? 'cog.yaml');
  const grace = Number.parseFloat(env.COGTS_SHUTDOWN_GRACE_S ?? '');
  server = await startServer({
    ...serverOptionsFromConfig(config, env),
    ...(env.COGTS_COG_PACKAGE_DIR ? { cogPackageDir: env.COGTS_COG_PACKAGE_DIR } : {}),
    ...(env.COGTS_UPLOAD_URL ? { uploadUrl: env.COGTS_UPLOAD_URL } : {}),
    ...(Number.isFinite(grace) ? { shutdownGraceMs: grace * 1000 } : {}),
    onShutdown: () => process.exit(0),
  });
  if (exiting) await server.close();
}

const invokedDirectly =
  process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href;
// Bundled as server.mjs the check above holds too (import.meta.url is the bundle's URL).
if (invokedDirectly || process.env.COGTS_FORCE_MAIN === '1') {
  main().catch((err: unknown) => {
    const msg = isCogtsError(err) ? `${err.message}${err.hint ? ` (hint: ${err.hint})` : ''}` : String(err);
    process.stdout.write(JSON.stringify({ ts: new Date().toISOString(), level: 'error', msg }) + '\n');
    process.exit(1);
  });
}
