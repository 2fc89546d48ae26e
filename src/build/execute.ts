import { join } from 'node:path';
import type { AptResolution } from '../apt/index.js';
import { FileHashes } from '../cache/file-hash.js';
import type { RemoteCache } from '../cache/remote.js';
import { loadRootfsSnapshot, saveRootfsSnapshot } from '../cache/rootfs-snapshot.js';
import { LayerCache, type PipPlanRecord } from '../cache/store.js';
import { loadConfig } from '../config/load.js';
import { CogtsError } from '../errors.js';
import { type Addition, appendLayers, type ConfigPatch, createdFromEnv, type Image } from '../oci/image.js';
import { parseReference, type Reference } from '../oci/reference.js';
import { type RemoteImage, remoteImage } from '../oci/remote.js';
import type { BuildPlan } from '../plan/types.js';
import { type Progress, silentProgress } from '../progress/events.js';
import { Registries } from '../registry/client.js';
import { defaultKeep, type Rootfs, rootfsFromLayers } from '../rootfs/index.js';
import type { PythonProviderKind, PythonRuntime } from '../sources/python/index.js';
import { type BuildContext, deferred, layerContents } from './contents.js';
import { type Produced, type ProduceEnv, produceLayer } from './produce.js';
import { openApiLabel } from './schema-label.js';

export interface ExecuteOptions {
  /** Lines for the user (reports of what was done or not done). */
  log: (line: string) => void;
  /** Layer and phase events (default: none). */
  progress?: Progress;
  /** Force a Python provider instead of the automatic choice. */
  pythonProvider?: PythonProviderKind;
  /** npm registry the Node runtime is fetched from (default: the public one). */
  npmRegistry?: string;
  /** python-build-standalone mirror (`<mirror>/<release>/<file>`). */
  pythonMirror?: string;
  registries?: Registries;
  /** `--cache-from`: layers other builds recorded in a registry. */
  remoteCache?: RemoteCache;
  /** The push target: built layers are uploaded there while they are compressed. */
  eagerPush?: Reference;
  /** Layers tarred and compressed at once (default 2). */
  parallelLayers?: number;
}

/** Layer kinds whose sources read the base image's files. */
const BASE_READERS: ReadonlySet<string> = new Set(['python', 'pip', 'apt']);

/** Runs at most `n` of the given tasks at a time, in the order they were asked for. */
function limiter(n: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (active >= n) await new Promise<void>((r) => waiting.push(r));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

/** A layer that is in the image, and how it got there (built, cached, from the registry cache). */
export type BuiltLayer = Produced & { layer: NonNullable<Produced['layer']> };

export interface BuildResult {
  image: Image;
  base: RemoteImage;
  layers: BuiltLayer[];
  /** Layers the sources had nothing for. */
  empty: Produced[];
  python: PythonRuntime;
  schema: Record<string, unknown>;
  /** Pip plans made or used, for `--cache-to` (src/build/pip-layers.ts). */
  pipPlans: PipPlanRecord[];
}

/**
 * Executes a BuildPlan: pulls the base shallowly, produces each planned layer from its source
 * (or the layer cache, keyed by the source's inputs), and assembles the image. Nothing is pushed
 * here (see `deliver`), so a failure in any layer leaves no trace in a registry.
 */
export async function executePlan(plan: BuildPlan, opts: ExecuteOptions): Promise<BuildResult> {
  const progress = opts.progress ?? silentProgress;
  const config = await loadConfig(plan.configFile);
  const registries = opts.registries ?? registriesFor(plan);
  const platform = `${plan.platform.os}/${plan.platform.architecture}${plan.platform.variant ? `/${plan.platform.variant}` : ''}`;
  // The base's manifest and config travel while the schema is read; the schema is still reported
  // first: an unsupported predictor signature is the cheapest error to fix.
  const baseP = remoteImage(registries, parseReference(plan.base.ref), { platform });
  baseP.catch(() => {}); // awaited below
  const schema = await openApiLabel(config);
  opts.log(`base ${plan.base.ref} (${plan.base.why})`);
  const base = await baseP;
  const cacheDir = plan.cache.dir;
  const local = plan.cache.enabled ? new LayerCache(cacheDir) : undefined;
  let fs: Promise<Rootfs> | undefined;
  const ctx: BuildContext = {
    plan,
    config,
    log: opts.log,
    ...(opts.pythonProvider ? { pythonProvider: opts.pythonProvider } : {}),
    ...(opts.npmRegistry ? { npmRegistry: opts.npmRegistry } : {}),
    ...(opts.pythonMirror ? { pythonMirror: opts.pythonMirror } : {}),
    cacheDir,
    base,
    fileHashes: await FileHashes.open(local ? cacheDir : undefined, plan.projectDir),
    python: deferred<PythonRuntime>(),
    aptWithPython: deferred<AptResolution>(),
    ...(local ? { layerCache: local } : {}),
    ...(opts.remoteCache ? { remoteCache: opts.remoteCache } : {}),
    pipPlans: [],
    schema,
    baseFs: () => {
      fs ??= baseView(base, local ? cacheDir : undefined);
      return fs;
    },
  };

  // Steps a daemonless build cannot do fail before any source starts (sources run concurrently).
  for (const spec of plan.layers) if (spec.kind === 'run') await layerContents(spec, ctx);
  if (!plan.layers.some((l) => l.kind === 'python'))
    ctx.python.reject(new CogtsError('E_PLAN', 'the build plan has no python layer'));
  const env: ProduceEnv = {
    ...(local ? { local } : {}),
    ...(opts.remoteCache ? { remote: opts.remoteCache } : {}),
    blobDir: join(cacheDir, 'blobs'),
    progress,
    ...(opts.eagerPush ? { eager: { registries, target: opts.eagerPush } } : {}),
    compression: plan.compression,
    // Reading the base heads the longest chain (base → Python → pip resolve → download → pip
    // layers); on a machine with few cores, compressing other layers alongside it made it 5× slower
    // and the whole build waited on it. So while it runs no layer is built (cache lookups go on).
    ...(plan.layers.some((l) => BASE_READERS.has(l.kind))
      ? {
          buildAfter: ctx.baseFs().then(
            () => {},
            () => {},
          ),
        }
      : {}),
  };
  // Every source starts at once and layers are produced two at a time: while one waits on an
  // index or the registry, another tars and compresses. Order in the image is the plan's.
  const slots = limiter(opts.parallelLayers ?? 2);
  const perSpec = await Promise.all(
    plan.layers.map(async (spec) => {
      const contents = await layerContents(spec, ctx);
      return Promise.all(contents.map((c) => slots(() => produceLayer(c, env))));
    }),
  );
  const produced = perSpec.flat();
  await ctx.fileHashes.save().catch(() => {});
  const python = await ctx.python.promise;

  const built = produced.filter((p): p is BuiltLayer => p.layer !== undefined);
  const additions: Addition[] = built.map((b) => ({ layer: b.layer, createdBy: `cogts: ${b.description}` }));
  const image = appendLayers(base, additions, imagePatch(plan, base, python, schema));
  const empty = produced.filter((p) => !p.layer);
  return { image, base, layers: built, empty, python, schema, pipPlans: ctx.pipPlans };
}

/**
 * The base's files as the sources read them. Reading them means streaming every base layer once;
 * with a cache, what was learnt is saved under the base's manifest digest and read back next time.
 */
async function baseView(base: RemoteImage, cacheDir: string | undefined): Promise<Rootfs> {
  if (cacheDir) {
    const snap = await loadRootfsSnapshot(cacheDir, base.digest);
    if (snap) return snap;
  }
  const view = await rootfsFromLayers(
    base.layers.map((l) => ({ id: l.digest, open: () => l.open() })),
    { keep: defaultKeep },
  );
  // A snapshot that cannot be written only costs the next build a re-read.
  if (cacheDir) await saveRootfsSnapshot(cacheDir, base.digest, view).catch(() => {});
  return view;
}

export function registriesFor(plan: BuildPlan): Registries {
  return new Registries({
    mirrors: Object.fromEntries(plan.network.registryMirrors.map((m) => [m.host, m.url])),
    insecureRegistries: plan.network.insecureRegistries,
  });
}

function imagePatch(
  plan: BuildPlan,
  base: RemoteImage,
  python: PythonRuntime,
  schema: Record<string, unknown>,
): ConfigPatch {
  const env: Record<string, string> = {};
  for (const e of plan.image.env) env[e.name] = e.value;
  // The server starts the runner with this interpreter, wherever the provider put it.
  env.COGTS_PYTHON = python.interpreter;
  if (python.pathPrepend.length > 0) {
    const basePath = (base.config.config?.Env ?? []).find((e) => e.startsWith('PATH='))?.slice(5);
    env.PATH = [
      ...python.pathPrepend,
      basePath ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    ].join(':');
  }
  const created = createdFromEnv();
  return {
    env,
    workingDir: plan.image.workingDir,
    exposedPorts: plan.image.exposedPorts,
    entrypoint: plan.image.entrypoint,
    cmd: plan.image.cmd,
    created,
    labels: {
      ...plan.image.labels,
      'run.cog.openapi_schema': JSON.stringify(schema),
      'org.opencontainers.image.created': created,
      'org.opencontainers.image.base.name': plan.base.ref,
      'org.opencontainers.image.base.digest': base.resolvedDigest,
    },
  };
}

export { formatBytes } from '../progress/render.js';
