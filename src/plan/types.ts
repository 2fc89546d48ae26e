import type { Requirement } from '../compat/pins.js';
import type { Toolchain } from '../compat/toolchain.js';
import type { RunCommand } from '../config/types.js';
import type { CompressionChoice } from '../layer/compression.js';

/**
 * A BuildPlan is everything `cogts build` will do, decided up front as plain JSON-serialisable
 * data: no functions, no class instances, no I/O handles. `cogts build --dry-run --json` prints
 * it; the executor walks `layers` in order, asks the layer source for each `kind` to produce its
 * entries, and assembles `image` on top of `base`. Two plans that are deep-equal must build the
 * same image (given the same resolved inputs, which the lock file records).
 */
export interface BuildPlan {
  /** Bumped when the shape changes incompatibly. */
  planVersion: 1;
  cogtsVersion: string;
  /** Absolute paths of the cog.yaml and the project folder it lives in. */
  configFile: string;
  projectDir: string;
  platform: Platform;
  toolchain: Toolchain;
  /** The image everything is layered on (pulled shallowly: manifest + config, blobs on demand). */
  base: { ref: string; why: string };
  /** In order, bottom to top: slowest-changing first so that later edits reuse earlier layers. */
  layers: LayerSpec[];
  /** Resolution inputs shared by every `pip` layer (they split one resolved set of wheels). */
  python: PythonPackages;
  image: ImageConfigSpec;
  target: Target;
  network: NetworkOptions;
  cache: { enabled: boolean; dir: string };
  /**
   * How new layers are compressed (`--compression`, `--compression-level`): gzip by default; zstd
   * layers are OCI `tar+zstd`, so on a Docker-format base the image is written in the OCI family.
   */
  compression: CompressionChoice;
  /** Things the user should read (from the toolchain and the planner). */
  notes: string[];
}

export interface Platform {
  os: 'linux';
  architecture: 'amd64' | 'arm64';
  variant?: string;
}

/** Where the image goes: any mix of a local tag name, a registry push, a local file/folder. */
export interface Target {
  /** `-t/--tag`, else cog.yaml `image:`; the name recorded for the image. */
  tag?: string;
  /** `--push REF`. */
  push?: string;
  /** `--output oci:DIR` or `docker-archive:FILE`. */
  output?: { kind: 'oci' | 'docker-archive'; path: string };
}

export interface NetworkOptions {
  /** `--registry-mirror HOST=URL` and COGTS_REGISTRY_MIRRORS: reach HOST at URL instead. */
  registryMirrors: { host: string; url: string }[];
  insecureRegistries: string[];
  /** `--apt-mirror`: URL or FROM=TO rewrites of apt archive URLs. */
  aptMirrors: string[];
  /** `--locked`: fail if cogts.lock does not match instead of resolving anew. */
  locked: boolean;
}

export interface PythonPackages {
  /** Python minor the wheels must be for. */
  pythonMinor: string;
  /** Every requirement after the compat rewrites (torch==2.1.0 → torch==2.1.0+cu121). */
  requirements: Requirement[];
  /** `--index-url` (CLI) or the requirements file's; absent means PyPI (https://pypi.org/simple). */
  indexUrl?: string;
  extraIndexUrls: string[];
  findLinks: string[];
  /** Where the packages are installed in the image. */
  sitePackages: string;
}

/** Fields every layer spec has. */
interface LayerBase {
  /** Stable, unique within the plan ("apt", "python", "pip-frameworks", "pip", "runtime", "code"). */
  id: string;
  /** One line for humans. */
  description: string;
}

/** `build.system_packages` resolved against the base image's apt sources (src/apt). */
export interface AptLayerSpec extends LayerBase {
  kind: 'apt';
  packages: string[];
}

/**
 * The Python interpreter. `auto`: use the base image's Python when its layers already contain
 * this version (found by reading file lists, no layer then), else `standalone`
 * (python-build-standalone, unpacked to `prefix`).
 */
export interface PythonLayerSpec extends LayerBase {
  kind: 'python';
  /** As requested: "3.11" (newest patch) or "3.11.7". */
  version: string;
  minor: string;
  provider: 'auto' | 'standalone' | 'apt' | 'base';
  prefix: string;
}

/**
 * Every wheel of `BuildPlan.python`, from one resolution. Which layers they land in is decided by
 * size once the wheels are known: a distribution of `ownLayerBytes` or more unpacked (torch, each
 * nvidia-* CUDA library, tensorflow) gets a layer of its own, so models on the same torch/CUDA
 * share those blobs; the rest share one layer. (Name lists fixed in the plan missed new big
 * packages, e.g. triton or cuda-bindings, and put small ones in layers of their own.)
 */
export interface PipLayerSpec extends LayerBase {
  kind: 'pip';
  ownLayerBytes: number;
}

/**
 * `build.pre_install` / `build.run` shell commands. They need a process inside the image, which a
 * daemonless build does not have; the executor reports them (see the README) rather than skipping.
 */
export interface RunLayerSpec extends LayerBase {
  kind: 'run';
  phase: 'pre_install' | 'run';
  commands: RunCommand[];
}

/** Node binary, bundled server and the Python `cog` shim under /opt/cogts (src/sources/runtime). */
export interface RuntimeLayerSpec extends LayerBase {
  kind: 'runtime';
  cogtsVersion: string;
  root: string;
}

/** The project folder, minus .dockerignore matches, copied to /src. */
export interface CodeLayerSpec extends LayerBase {
  kind: 'code';
  /** Absolute path on the build machine. */
  sourceDir: string;
  /** Path in the image. */
  target: string;
  /** Ignore file read from sourceDir (gitignore syntax, like Docker's). */
  ignoreFile: string;
  /** Always left out, whatever the ignore file says. */
  alwaysExclude: string[];
}

export type LayerSpec =
  | AptLayerSpec
  | PythonLayerSpec
  | RunLayerSpec
  | PipLayerSpec
  | RuntimeLayerSpec
  | CodeLayerSpec;

export type LayerKind = LayerSpec['kind'];

/** The OCI image config cogts adds; the executor merges it over the base image's config. */
export interface ImageConfigSpec {
  /** Set (override the base's value); in order. */
  env: { name: string; value: string }[];
  /** Directories put in front of the base image's PATH. */
  pathPrepend: string[];
  entrypoint: string[];
  cmd: string[];
  workingDir: string;
  exposedPorts: string[];
  labels: Record<string, string>;
  /** Labels only known after the layers are built (the executor fills them in). */
  pendingLabels: string[];
}
