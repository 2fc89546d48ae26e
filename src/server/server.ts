import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import type { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { jsonLogger, type Logger, type LogLevel, parseLogLevel } from './log.js';
import { createApp } from './routes.js';
import { PredictionService } from './service.js';

export interface ServerOptions {
  /** Model directory: the runner's cwd, where predict.py lives. */
  projectDir: string;
  /** cog.yaml `predict`/`run`, e.g. "predict.py:Predictor". */
  predict: string;
  /** cog.yaml `train`, e.g. "train.py:train"; enables /trainings. */
  train?: string;
  /**
   * Prediction slots (cog.yaml concurrency.max; env COG_MAX_CONCURRENCY overrides). Default: the
   * predictor's `@cog.concurrent(max=N)`, else 1.
   */
  concurrency?: number;
  /** Default env PORT or 5000; 0 picks a free port. */
  port?: number;
  /** Default env HOST or 0.0.0.0. */
  host?: string;
  /** File outputs are PUT to `{uploadUrl}/{name}` instead of returned as data URLs. */
  uploadUrl?: string;
  /** Python executable for the runner. Default env COGTS_PYTHON or "python3". */
  python?: string;
  /**
   * Folder that contains the `cog` package (goes first on the runner's PYTHONPATH). Default: the
   * checkout's src/python when running from a checkout; in the image pass /opt/cogts/python (or set
   * PYTHONPATH yourself and pass null).
   */
  cogPackageDir?: string | null;
  /** Runner environment (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Passed to setup(weights=...) (env COG_WEIGHTS also works). */
  weights?: string;
  /** Default env COG_LOG_LEVEL or info. */
  logLevel?: LogLevel;
  /** Where JSON logs go (default process.stdout). */
  logStream?: Writable;
  /** Graceful stop: how long in-flight predictions may run before they are cancelled. Default 30 s. */
  shutdownGraceMs?: number;
  /** Called once POST /shutdown has drained the server (main.ts exits the process here). */
  onShutdown?: () => void;
  /** Seconds setup may take before it counts as failed (default env COG_SETUP_TIMEOUT; 0 = no limit). */
  setupTimeoutS?: number;
  /** Test/tuning knobs. */
  webhookThrottleMs?: number;
  restartDelayMs?: number;
  cancelTimeoutMs?: number;
  /** Body limit (default 100 MiB, like Cog). */
  bodyLimit?: string | number;
}

export interface RunningServer {
  port: number;
  host: string;
  /** http://host:port (127.0.0.1 when listening on all interfaces). */
  url: string;
  service: PredictionService;
  logger: Logger;
  /** Resolves when setup has ended (status READY or SETUP_FAILED). */
  settled(): Promise<void>;
  /** Stop accepting, finish (or after the grace period cancel) in-flight work, stop the runner. */
  close(opts?: { graceMs?: number }): Promise<void>;
}

export const COGTS_VERSION = '0.1.0';

/** The src/python folder of a checkout, found by walking up from this module. */
export function defaultCogPackageDir(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    // A checkout (src/python) or an installed runtime laid out as <root>/server.mjs + <root>/python.
    for (const candidate of [join(dir, 'src', 'python'), join(dir, 'python')]) {
      if (existsSync(join(candidate, 'cog', 'runner.py'))) return candidate;
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return undefined;
}

export async function startServer(opts: ServerOptions): Promise<RunningServer> {
  const env = opts.env ?? process.env;
  const logger = jsonLogger(
    opts.logStream ?? process.stdout,
    opts.logLevel ?? parseLogLevel(process.env.COG_LOG_LEVEL),
  );
  const setupTimeoutS = opts.setupTimeoutS ?? Number.parseFloat(process.env.COG_SETUP_TIMEOUT ?? '0');
  const envConcurrency = Number.parseInt(process.env.COG_MAX_CONCURRENCY ?? '', 10);
  const wanted = Number.isFinite(envConcurrency) ? envConcurrency : opts.concurrency;
  const concurrency = wanted === undefined ? undefined : Math.max(1, wanted);
  const cogPackageDir =
    opts.cogPackageDir === undefined ? defaultCogPackageDir() : (opts.cogPackageDir ?? undefined);
  const service = new PredictionService({
    worker: {
      projectDir: opts.projectDir,
      predict: opts.predict,
      ...(opts.train ? { train: opts.train } : {}),
      python: opts.python ?? process.env.COGTS_PYTHON ?? 'python3',
      ...(cogPackageDir ? { cogPackageDir } : {}),
      env,
      ...(opts.weights ? { weights: opts.weights } : {}),
    },
    ...(concurrency !== undefined ? { concurrency } : {}),
    files: opts.uploadUrl ? { uploadUrl: opts.uploadUrl } : {},
    logger,
    webhook: {
      throttleMs: opts.webhookThrottleMs ?? secondsEnv('COG_THROTTLE_RESPONSE_INTERVAL', 500),
      terminalRetries: 12,
      ...(process.env.WEBHOOK_AUTH_TOKEN ? { authToken: process.env.WEBHOOK_AUTH_TOKEN } : {}),
    },
    ...(opts.restartDelayMs !== undefined ? { restartDelayMs: opts.restartDelayMs } : {}),
    ...(setupTimeoutS > 0 ? { setupTimeoutMs: setupTimeoutS * 1000 } : {}),
    // Under Kubernetes Cog signals readiness with a file as well as /health-check.
    ...(process.env.KUBERNETES_SERVICE_HOST ? { readyFile: '/var/run/cog/ready' } : {}),
    ...(opts.cancelTimeoutMs !== undefined ? { cancelTimeoutMs: opts.cancelTimeoutMs } : {}),
  });

  let closing: Promise<void> | undefined;
  let http: Server | undefined;
  const close = (o: { graceMs?: number } = {}): Promise<void> => {
    closing ??= (async () => {
      logger.info('shutting down', {});
      // Stop taking connections; in-flight requests still get their answers.
      const closed = new Promise<void>((r) => (http ? http.close(() => r()) : r()));
      await service.shutdown(o.graceMs ?? opts.shutdownGraceMs ?? 30_000);
      http?.closeIdleConnections();
      setTimeout(() => http?.closeAllConnections(), 1000).unref();
      await closed;
      logger.info('stopped', {});
    })();
    return closing;
  };

  const app = createApp({
    service,
    logger,
    version: COGTS_VERSION,
    bodyLimit: opts.bodyLimit ?? '100mb',
    requestShutdown: () => {
      void close().then(() => opts.onShutdown?.());
    },
  });
  await service.start();
  http = createServer(app);
  http.keepAliveTimeout = 65_000;
  const host = opts.host ?? process.env.HOST ?? '0.0.0.0';
  const port = opts.port ?? Number.parseInt(process.env.PORT ?? '5000', 10);
  await new Promise<void>((resolve, reject) => {
    http!.once('error', reject);
    http!.listen(port, host, () => resolve());
  });
  const actual = (http.address() as AddressInfo).port;
  logger.info('listening', { host, port: actual });
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return {
    port: actual,
    host,
    url: `http://${shownHost}:${actual}`,
    service,
    logger,
    settled: () => service.settled(),
    close,
  };
}

function secondsEnv(name: string, fallbackMs: number): number {
  const v = Number.parseFloat(process.env[name] ?? '');
  return Number.isFinite(v) ? v * 1000 : fallbackMs;
}
