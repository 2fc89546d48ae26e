import type { Config } from '../config/types.js';
import { CogtsError } from '../errors.js';
import { compatTables } from './data.js';
import { describeRequest, newestKnown, pickRelease } from './frameworks.js';
import { chooseGpuImage } from './gpu-image.js';
import type { ParsedPins, Requirement } from './pins.js';
import { pairCompanions, type Rewrite, rewrite } from './rewrites.js';
import type { CompatTables, TensorflowRelease, TorchBuild, TorchRelease } from './tables.js';
import type { FrameworkChoice, Toolchain, ToolchainOptions } from './toolchain.js';
import {
  buildOfIndexUrl,
  compareVersions,
  cudaOfBuild,
  exactVersion,
  localLabel,
  major,
  majorMinor,
  sameMinor,
} from './versions.js';

export type { Toolchain, ToolchainOptions } from './toolchain.js';

const tensorflowNames = ['tensorflow', 'tensorflow-gpu', 'tensorflow-cpu'];

/**
 * Config + requirement pins → Toolchain, from the compat/ tables alone (no I/O beyond reading
 * them once). Rules, in the order they apply:
 * - Python: build.python_version, else the table default; every framework pin must have wheels
 *   for it, else an error names both and what would work.
 * - torch on GPU: the wheel build (cuXYZ) comes from a `+cuXYZ` pin, a torch index the user gave,
 *   build.cuda, or else the newest build that has a base image. torch wheels carry their own CUDA
 *   and cuDNN libraries (bundled before 1.13, nvidia-* wheels since), so the image is the small
 *   `-base-` flavour. CPU models get the `cpu` wheel index (no multi-GB CUDA wheels).
 * - tensorflow on GPU loads the system CUDA/cuDNN, so it gets a `cudnn<N>-runtime` image.
 * - `devel` only when asked (--cuda-variant) or when something needs nvcc (a known source-only
 *   CUDA package, or a build.run command calling nvcc).
 * - A torch release newer than the tables builds when the user names its index (or a +cuXYZ pin,
 *   or build.cuda): the table lags releases, the user's index does not.
 */
export function resolveToolchain(
  config: Config,
  pins: ParsedPins,
  options: ToolchainOptions = {},
  tables: CompatTables = compatTables(),
): Toolchain {
  const notes: string[] = [];
  const python = choosePython(config, tables, notes);
  const gpu = config.build.gpu;
  const find = (names: string[]) =>
    pins.requirements.find((r) => r.name !== undefined && names.includes(r.name));
  const torchReq = find(['torch']);
  const tfReq = find(tensorflowNames);
  const userIndexes = [
    options.indexUrl,
    ...(options.extraIndexUrls ?? []),
    pins.indexUrl,
    ...pins.extraIndexUrls,
  ].filter((u): u is string => u !== undefined);
  const requestedCuda = gpu ? config.build.cuda : undefined;
  if (!gpu && config.build.cuda)
    notes.push(`build.cuda ${config.build.cuda} is ignored because build.gpu is false`);

  // tensorflow-cpu never loads CUDA, so on a GPU model it asks nothing of the image.
  const tfUsesGpu = gpu && tfReq?.name !== 'tensorflow-cpu';
  const tf = tfReq ? chooseTensorflow(tfReq, tables.tensorflow.releases, python.minor, tfUsesGpu) : undefined;
  const torch = torchReq
    ? chooseTorch(
        torchReq,
        tables.torch.releases,
        python.minor,
        gpu,
        requestedCuda ?? (tfUsesGpu ? tf?.release?.cuda : undefined),
        userIndexes,
        torchIndexTemplate(options, tables),
      )
    : undefined;
  if (tf && tfUsesGpu && requestedCuda && tf.release && !sameMinor(requestedCuda, tf.release.cuda)) {
    throw new CogtsError(
      'E_COMPAT',
      `build.cuda ${requestedCuda} conflicts with ${describeRequest('tensorflow', tfReq!)}, which is built for CUDA ${tf.release.cuda} with cuDNN ${tf.release.cudnn}`,
      { hint: `set build.cuda to "${tf.release.cuda}" or remove it` },
    );
  }

  const toolchain: Toolchain = {
    python,
    gpu,
    baseImage: { ref: tables.cpuBase.image, why: `CPU model: ${tables.cpuBase.why}`, chosenBy: 'compat' },
    requirements: [],
    extraIndexUrls: [...pins.extraIndexUrls],
    findLinks: [...pins.findLinks],
    rewrites: [],
    notes,
  };
  if (pins.indexUrl !== undefined) toolchain.indexUrl = pins.indexUrl;
  if (torch) toolchain.torch = torch.choice;
  if (tf) toolchain.tensorflow = tf.choice;

  const rewrites = new Map<Requirement, Rewrite>();
  // With --base-image the user owns the image: no nvidia/cuda lookup (which could fail for a CUDA
  // cogts has no image of), but the framework builds above still follow build.cuda.
  if (gpu && !options.baseImage) {
    const { tfAndCuda } = chooseGpuImage(
      toolchain,
      config,
      pins,
      tables,
      options,
      torch?.choice,
      tfUsesGpu ? tf?.release : undefined,
    );
    if (tfAndCuda && tfReq && !tfReq.extras.includes('and-cuda')) {
      rewrite(
        rewrites,
        tfReq,
        { extras: [...tfReq.extras, 'and-cuda'] },
        'tensorflow[and-cuda] installs CUDA and cuDNN as nvidia-* wheels',
      );
    }
  }

  if (options.baseImage) {
    toolchain.baseImage = { ref: options.baseImage, why: 'given with --base-image', chosenBy: 'option' };
  }

  // Pins: exact torch pins get the build's local label so the resolver takes the intended wheel.
  if (torch && torchReq && torch.indexUrl === undefined) {
    notes.push(
      `torch wheels come from the configured indexes only (--torch-index none): they must hold the ${torch.choice.build} build`,
    );
    if (torch.release) pairCompanions(pins, torch.release, rewrites);
  }
  if (torch?.choice.build && torchReq && torch.indexUrl !== undefined) {
    const index = torch.indexUrl;
    toolchain.torchIndexUrl = index;
    if (!userIndexes.includes(index)) toolchain.extraIndexUrls.push(index);
    const exact = exactVersion(torchReq.specifier);
    if (exact && !localLabel(torchReq.specifier) && torch.choice.known) {
      rewrite(
        rewrites,
        torchReq,
        { specifier: `==${exact}+${torch.choice.build}` },
        `the ${torch.choice.build} build of torch ${exact} from ${index}`,
      );
    }
    if (torch.release) pairCompanions(pins, torch.release, rewrites);
  }
  toolchain.requirements = pins.requirements.map((r) => rewrites.get(r)?.req ?? r);
  toolchain.rewrites = [...rewrites.values()].map((r) => r.rewrite);
  return toolchain;
}

function choosePython(config: Config, tables: CompatTables, notes: string[]): Toolchain['python'] {
  const written = config.build.pythonVersion;
  const version = written ?? tables.python.default;
  const minor = majorMinor(version);
  const row = tables.python.versions.find((v) => v.minor === minor);
  if (!row) {
    throw new CogtsError('E_COMPAT', `Python ${version} is not supported`, {
      hint: `use one of ${tables.python.versions.map((v) => v.minor).join(', ')}`,
    });
  }
  // Compared with the table's own date, not the clock, so that resolution stays a pure function.
  if (row.endOfLife <= tables.python.asOf)
    notes.push(`Python ${minor} reached end of life in ${row.endOfLife}`);
  return {
    version,
    minor,
    why: written ? 'build.python_version' : `default (${tables.python.defaultWhy})`,
  };
}

interface TorchDecision {
  choice: FrameworkChoice;
  release?: TorchRelease;
  /** Absent with `--torch-index none`. */
  indexUrl?: string;
}

/**
 * Where torch's per-build indexes live: `{variant}` becomes cu121/cpu. Default from the table
 * (download.pytorch.org); `--torch-index URL` points at a mirror with the same layout; `none`
 * adds no index (the user's own indexes hold the right build).
 */
function torchIndexTemplate(options: ToolchainOptions, tables: CompatTables): string | null {
  if (options.torchIndex === 'none') return null;
  if (options.torchIndex) return `${options.torchIndex.replace(/\/+$/, '')}/{variant}`;
  return tables.torch.indexUrlTemplate;
}

function chooseTorch(
  req: Requirement,
  releases: TorchRelease[],
  pythonMinor: string,
  gpu: boolean,
  wantedCuda: string | undefined,
  userIndexes: string[],
  indexTemplate: string | null,
): TorchDecision {
  const release = pickRelease('torch', req, releases, pythonMinor);
  const label = localLabel(req.specifier);
  const indexBuild = userIndexes.map(buildOfIndexUrl).find((b) => b !== undefined);
  const requested = describeRequest('torch', req);
  const indexFor = (build: string) => indexTemplate?.replace('{variant}', build);

  if (!release) {
    // Newer than compat/: trust what the user named; refuse to guess a CUDA build.
    const build =
      label ?? indexBuild ?? (gpu && wantedCuda ? `cu${majorMinor(wantedCuda).replace('.', '')}` : undefined);
    if (gpu && build === undefined) {
      throw new CogtsError(
        'E_COMPAT',
        `${requested} (${req.origin}) is newer than cogts' compatibility table (newest known: torch ${newestKnown(releases)}), so its CUDA build is unknown`,
        {
          hint: 'name its wheel index (e.g. --extra-index-url https://download.pytorch.org/whl/cu130 in requirements.txt), pin a build (torch==X+cu130), or set build.cuda',
        },
      );
    }
    const chosen = build ?? 'cpu';
    const cuda = cudaOfBuild(chosen);
    const choice: FrameworkChoice = {
      requested,
      known: false,
      build: chosen,
      why: `not in compat/ tables; using the ${chosen} build ${label ? 'pinned' : indexBuild ? 'from the given index' : gpu ? 'matching build.cuda' : 'for a CPU image'}`,
    };
    const exact = exactVersion(req.specifier);
    if (exact) choice.version = exact;
    if (cuda) choice.cuda = cuda;
    const indexUrl = userIndexes.find((u) => buildOfIndexUrl(u) === chosen) ?? indexFor(chosen);
    return indexUrl === undefined ? { choice } : { choice, indexUrl };
  }

  const cudaBuilds = release.builds.filter((b) => b.cuda !== null);
  const listBuilds = () => release.builds.map((b) => b.variant).join(', ');
  let build: TorchBuild | undefined;
  let why: string;
  const explicit = label ?? indexBuild;
  if (explicit) {
    build = release.builds.find((b) => b.variant === explicit);
    if (!build) {
      throw new CogtsError(
        'E_COMPAT',
        `torch ${release.version} has no ${explicit} build (${label ? req.origin : 'the given index'}); its builds are ${listBuilds()}`,
        { hint: `use one of ${listBuilds()}` },
      );
    }
    why = label ? `pinned as torch==${release.version}+${explicit}` : `the ${explicit} index given`;
  } else if (!gpu) {
    build = release.builds.find((b) => b.variant === 'cpu');
    why = 'CPU model: the cpu wheels leave out the multi-GB CUDA libraries';
  } else if (wantedCuda) {
    build =
      cudaBuilds.find((b) => sameMinor(b.cuda!, wantedCuda)) ??
      cudaBuilds
        .filter(
          (b) => major(b.cuda!) === major(wantedCuda) && compareVersions(b.cuda!, majorMinor(wantedCuda)) < 0,
        )
        .at(-1);
    if (!build) {
      throw new CogtsError(
        'E_COMPAT',
        `CUDA ${wantedCuda} does not work with torch ${release.version} (${req.origin}): its wheels are built for CUDA ${cudaBuilds.map((b) => b.cuda).join(', ')}`,
        {
          hint: `set build.cuda to one of ${cudaBuilds.map((b) => `"${b.cuda}"`).join(', ')}, or remove build.cuda`,
        },
      );
    }
    why = sameMinor(build.cuda!, wantedCuda)
      ? `matches CUDA ${wantedCuda}`
      : `no ${wantedCuda} build; ${build.variant} wheels run on CUDA ${wantedCuda} (minor-version compatibility)`;
  } else {
    build = cudaBuilds.at(-1);
    why = `newest CUDA build of torch ${release.version}`;
  }
  if (!build)
    throw new CogtsError('E_COMPAT', `torch ${release.version} has no ${gpu ? 'CUDA' : 'cpu'} build`);
  const choice: FrameworkChoice = {
    requested,
    version: release.version,
    known: true,
    build: build.variant,
    why,
  };
  if (build.cuda) choice.cuda = build.cuda;
  // An index the user named for this build wins over the template (it may be a mirror).
  const indexUrl = userIndexes.find((u) => buildOfIndexUrl(u) === build.variant) ?? indexFor(build.variant);
  return indexUrl === undefined ? { choice, release } : { choice, release, indexUrl };
}

function chooseTensorflow(
  req: Requirement,
  releases: TensorflowRelease[],
  pythonMinor: string,
  gpu: boolean,
): { choice: FrameworkChoice; release?: TensorflowRelease } {
  const release = pickRelease('tensorflow', req, releases, pythonMinor);
  const requested = describeRequest(req.name ?? 'tensorflow', req);
  if (!release) {
    if (gpu) {
      throw new CogtsError(
        'E_COMPAT',
        `${requested} (${req.origin}) is not in cogts' compatibility table (newest known: tensorflow ${newestKnown(releases)}), so its CUDA/cuDNN are unknown`,
        {
          hint: 'set build.cuda and build.cudnn to what this release needs (tensorflow.org/install/source#gpu)',
        },
      );
    }
    return {
      choice: { requested, known: false, why: 'not in compat/ tables; CPU image needs nothing from it' },
    };
  }
  const choice: FrameworkChoice = {
    requested,
    version: release.version,
    known: true,
    why: 'newest matching release',
  };
  if (gpu) {
    choice.cuda = release.cuda;
    choice.cudnn = release.cudnn;
    choice.why = `tensorflow ${release.version} is built for CUDA ${release.cuda} and cuDNN ${release.cudnn}`;
  }
  return { choice, release };
}
