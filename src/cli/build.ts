import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { runBuild } from '../build/run.js';
import { formatPlan } from '../plan/format.js';
import { planForProject } from '../plan/from-project.js';
import { type PlanOptions, planOptionsFrom } from '../plan/options.js';
import { cogtsVersion, fileOption, type GlobalOptions } from './common.js';
import { registryFlags } from './registry-flags.js';

export interface BuildArgs extends GlobalOptions {
  file: string;
  push?: string;
  tag?: string;
  dryRun: boolean;
  json: boolean;
  output?: string;
  baseImage?: string;
  registryMirror: string[];
  insecureRegistry: string[];
  platform: string;
  cacheDir?: string;
  cache: boolean;
  indexUrl?: string;
  extraIndexUrl: string[];
  aptMirror: string[];
  locked: boolean;
  cudaVariant?: 'base' | 'runtime' | 'devel';
  torchIndex?: string;
  pythonProvider: 'auto' | 'base' | 'standalone' | 'apt';
  pythonMirror?: string;
  npmRegistry?: string;
  cacheFrom?: string;
  cacheTo?: string;
  compression: 'gzip' | 'zstd';
  compressionLevel?: number;
}

/** The build flags plus COGTS_REGISTRY_MIRRORS / COGTS_CACHE_DIR, parsed and checked. */
export function buildPlanOptions(args: BuildArgs, env: NodeJS.ProcessEnv = process.env): PlanOptions {
  return planOptionsFrom(args, env, cogtsVersion());
}

function builder(y: Argv) {
  const withTarget = fileOption(y)
    .option('push', { type: 'string', describe: 'Push the image to this registry reference' })
    .option('tag', { alias: 't', type: 'string', describe: 'Image reference (name:tag) to give the image' })
    .option('dry-run', { type: 'boolean', default: false, describe: 'Print the build plan; no network' })
    .option('json', { type: 'boolean', default: false, describe: 'Machine-readable output' })
    .option('output', { type: 'string', describe: 'Write the image locally: oci:DIR or docker-archive:FILE' })
    .option('base-image', { type: 'string', describe: 'Use this base image instead of the resolved one' });
  // The same registry flags as inspect/login, defined once.
  return registryFlags(withTarget)
    .option('platform', {
      type: 'string',
      default: 'linux/amd64',
      describe: 'Target platform os/arch[/variant]',
    })
    .option('cache-dir', { type: 'string', describe: 'Layer cache folder (env COGTS_CACHE_DIR)' })
    .option('cache', { type: 'boolean', default: true, describe: 'Use the layer cache (--no-cache to skip)' })
    .option('cache-from', {
      type: 'string',
      describe: 'Registry cache to take layers from (REF, e.g. REGISTRY/REPO:buildcache)',
    })
    .option('cache-to', {
      type: 'string',
      describe: "Record this build's layers in a registry cache at REF (an OCI artifact)",
    })
    .option('compression', {
      choices: ['gzip', 'zstd'] as const,
      default: 'gzip' as const,
      describe:
        'Layer compression: gzip, or zstd (OCI tar+zstd layers, smaller and faster to unpack; the runtime must read zstd, e.g. containerd 1.5+; on a Docker-format base the image is written as OCI)',
    })
    .option('compression-level', {
      type: 'number',
      describe: 'Compression level: gzip 0-9 (default 1), zstd 1-19 (default 3)',
    })
    .option('index-url', { type: 'string', describe: 'Python package index (default: PyPI)' })
    .option('extra-index-url', {
      type: 'string',
      array: true,
      default: [] as string[],
      describe: 'More indexes',
    })
    .option('apt-mirror', {
      type: 'string',
      array: true,
      default: [] as string[],
      describe: 'URL or FROM=TO: rewrite apt archive URLs (repeatable)',
    })
    .option('locked', {
      type: 'boolean',
      default: false,
      describe: 'Fail instead of resolving anew if cogts.lock is stale',
    })
    .option('torch-index', {
      type: 'string',
      describe:
        'Base URL of the per-build torch wheel indexes (default https://download.pytorch.org/whl; a mirror with the same cu121/cpu folders; "none" to add none; env COGTS_TORCH_INDEX)',
    })
    .option('cuda-variant', {
      choices: ['base', 'runtime', 'devel'] as const,
      describe: 'Force the nvidia/cuda image flavour (default: the smallest that works; see --dry-run)',
    })
    .option('python-provider', {
      choices: ['auto', 'base', 'standalone', 'apt'] as const,
      default: 'auto' as const,
      describe:
        "Where the image's Python comes from: the base image's, python-build-standalone, or the distribution's apt packages (auto: base if it has the version, else standalone)",
    })
    .option('python-mirror', {
      type: 'string',
      describe:
        'Mirror of python-build-standalone releases (<mirror>/<release>/<file>; env COGTS_PYTHON_MIRROR)',
    })
    .option('npm-registry', {
      type: 'string',
      describe:
        'npm registry the Node runtime is fetched from (default https://registry.npmjs.org/; env COGTS_NPM_REGISTRY)',
    })
    .example('$0 build --dry-run', 'Show what would be built, and why, without network access')
    .example('$0 build --dry-run --json', 'The same plan as JSON')
    .example('$0 build -t r8.im/me/model --push 127.0.0.1:5000/me/model:1', 'Build and push')
    .epilog(
      'Environment: COGTS_REGISTRY_MIRRORS (HOST=URL,…; --registry-mirror adds to it), COGTS_CACHE_DIR (cache folder; --cache-dir wins), COGTS_TORCH_INDEX (--torch-index wins).',
    );
}

export const buildCommand: CommandModule<GlobalOptions, BuildArgs> = {
  command: 'build',
  describe: 'Build the model in this folder into an OCI image, without a Docker daemon',
  builder: builder as unknown as CommandModule<GlobalOptions, BuildArgs>['builder'],
  handler: async (args: ArgumentsCamelCase<BuildArgs>) => {
    const plan = await planForProject(args.file, buildPlanOptions(args));
    if (args.dryRun) {
      process.stdout.write(args.json ? `${JSON.stringify(plan, null, 2)}\n` : formatPlan(plan));
      return;
    }
    await runBuild(plan, args);
  },
};
