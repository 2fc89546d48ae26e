import type { Toolchain } from '../compat/toolchain.js';
import type { Config } from '../config/types.js';
import { COMPRESSION_LEVELS } from '../layer/compression.js';
import type { PlanOptions } from './options.js';
import type { BuildPlan, ImageConfigSpec, LayerSpec, PipLayerSpec, PythonPackages } from './types.js';

export type { PlanOptions } from './options.js';
export type * from './types.js';

/** In-image locations. The runtime's own paths mirror src/sources/runtime.ts (RUNTIME_*). */
export const IMAGE_PATHS = {
  code: '/src',
  pythonPrefix: '/opt/python',
  runtimeRoot: '/opt/cogts',
  node: '/opt/cogts/bin/node',
  server: '/opt/cogts/server.mjs',
  cogShim: '/opt/cogts/python',
} as const;

/**
 * Config + Toolchain + options → BuildPlan. Pure: no I/O, no clock, no environment; the same
 * arguments give a deep-equal plan. Layers are ordered by how often they change, so an edit to
 * predict.py rebuilds only the top layer and a new requirement leaves apt and Python untouched.
 */
export function makePlan(config: Config, toolchain: Toolchain, options: PlanOptions): BuildPlan {
  const notes = [...toolchain.notes];
  const layers: LayerSpec[] = [];

  if (config.build.systemPackages.length > 0) {
    layers.push({
      kind: 'apt',
      id: 'apt',
      description: `system packages: ${config.build.systemPackages.join(' ')}`,
      packages: [...config.build.systemPackages],
    });
  }
  layers.push({
    kind: 'python',
    id: 'python',
    description: `Python ${toolchain.python.version} (the base image's if it has it, else python-build-standalone)`,
    version: toolchain.python.version,
    minor: toolchain.python.minor,
    provider: 'auto',
    prefix: IMAGE_PATHS.pythonPrefix,
  });
  if (config.build.preInstall.length > 0) {
    layers.push({
      kind: 'run',
      id: 'pre-install',
      phase: 'pre_install',
      description: `build.pre_install: ${config.build.preInstall.length} command(s)`,
      commands: config.build.preInstall.map((command) => ({ command })),
    });
  }
  layers.push(...pipLayers(toolchain));
  if (config.build.run.length > 0) {
    layers.push({
      kind: 'run',
      id: 'run',
      phase: 'run',
      description: `build.run: ${config.build.run.length} command(s)`,
      commands: config.build.run,
    });
    notes.push(
      'build.run and build.pre_install commands need a process inside the image; see README "Differences from Cog"',
    );
  }
  layers.push({
    kind: 'runtime',
    id: 'runtime',
    description: `cogts ${options.cogtsVersion} runtime: Node, the prediction server, the Python cog shim`,
    cogtsVersion: options.cogtsVersion,
    root: IMAGE_PATHS.runtimeRoot,
  });
  layers.push({
    kind: 'code',
    id: 'code',
    description: `model code from ${config.projectDir}`,
    sourceDir: config.projectDir,
    target: IMAGE_PATHS.code,
    ignoreFile: '.dockerignore',
    alwaysExclude: ['.git', '.cog'],
  });

  if (config.build.sdkVersion) {
    notes.push(
      `build.sdk_version ${config.build.sdkVersion} is ignored: cogts images carry their own cog shim`,
    );
  }
  if (config.weights?.length) {
    notes.push(
      'weights: entries are not packaged by cogts yet; they are recorded in the run.cog.config label',
    );
  }

  const python: PythonPackages = {
    pythonMinor: toolchain.python.minor,
    requirements: toolchain.requirements,
    extraIndexUrls: [
      ...options.extraIndexUrls,
      ...toolchain.extraIndexUrls.filter((u) => !options.extraIndexUrls.includes(u)),
    ],
    findLinks: toolchain.findLinks,
    sitePackages: `${IMAGE_PATHS.pythonPrefix}/lib/python${toolchain.python.minor}/site-packages`,
  };
  const indexUrl = options.indexUrl ?? toolchain.indexUrl;
  if (indexUrl !== undefined) python.indexUrl = indexUrl;

  const target = { ...options.target };
  if (target.tag === undefined && config.image !== undefined) target.tag = config.image;

  return {
    planVersion: 1,
    cogtsVersion: options.cogtsVersion,
    configFile: config.file,
    projectDir: config.projectDir,
    platform: options.platform,
    toolchain,
    base: { ref: toolchain.baseImage.ref, why: toolchain.baseImage.why },
    layers,
    python,
    image: imageConfig(config, toolchain, options),
    target,
    network: options.network,
    cache: options.cache,
    compression: options.compression ?? { algorithm: 'gzip', level: COMPRESSION_LEVELS.gzip.default },
    notes,
  };
}

/** Distributions at least this big unpacked get a pip layer of their own (see PipLayerSpec). */
export const OWN_LAYER_BYTES = 100 * 1024 * 1024;

/**
 * One pip layer spec: all wheels come from one resolution, and the executor splits out the big
 * distributions (CUDA libraries, the framework) by size, so each blob is uploaded once per
 * registry, not once per model.
 */
function pipLayers(toolchain: Toolchain): PipLayerSpec[] {
  if (toolchain.requirements.length === 0) return [];
  const big = [
    ...(toolchain.gpu && (toolchain.torch || toolchain.tensorflow) ? ['nvidia-* CUDA libraries'] : []),
    ...(toolchain.torch ? [`torch ${toolchain.torch.version ?? toolchain.torch.requested}`] : []),
    ...(toolchain.tensorflow
      ? [`tensorflow ${toolchain.tensorflow.version ?? toolchain.tensorflow.requested}`]
      : []),
  ];
  return [
    {
      kind: 'pip',
      id: 'pip',
      description: `Python packages; each of ${OWN_LAYER_BYTES >> 20} MiB or more in a layer of its own${big.length ? ` (${big.join(', ')})` : ''}`,
      ownLayerBytes: OWN_LAYER_BYTES,
    },
  ];
}

function imageConfig(config: Config, toolchain: Toolchain, options: PlanOptions): ImageConfigSpec {
  const env: { name: string; value: string }[] = [
    { name: 'PYTHONUNBUFFERED', value: '1' },
    // The cog shim must be importable without installing anything into site-packages.
    { name: 'PYTHONPATH', value: IMAGE_PATHS.cogShim },
  ];
  if (config.concurrency) env.push({ name: 'COG_MAX_CONCURRENCY', value: String(config.concurrency.max) });
  for (const [name, value] of config.environment) env.push({ name, value });
  const labels: Record<string, string> = {
    'run.cog.config': JSON.stringify(config.raw),
    'run.cog.version': options.cogtsVersion,
    'dev.cogts.version': options.cogtsVersion,
    'dev.cogts.base-image': toolchain.baseImage.ref,
  };
  if (toolchain.cuda) labels['dev.cogts.cuda'] = toolchain.cuda;
  // Not the push target: where an image is sent must not change its digest (ko, crane), so the
  // same inputs pushed to two registries or tags are one image.
  const title = options.target.tag ?? config.image;
  if (title) labels['org.opencontainers.image.title'] = title;
  return {
    env,
    pathPrepend: [`${IMAGE_PATHS.pythonPrefix}/bin`],
    entrypoint: [IMAGE_PATHS.node, IMAGE_PATHS.server],
    cmd: [],
    workingDir: IMAGE_PATHS.code,
    exposedPorts: ['5000/tcp'],
    labels,
    pendingLabels: ['run.cog.openapi_schema', 'org.opencontainers.image.created'],
  };
}
