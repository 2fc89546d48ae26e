/**
 * Shapes of the JSON tables in the top-level compat/ folder (written by compat/generate.mjs).
 * Every table and every row says where its facts came from (`source`), because these facts go
 * stale: a reader must be able to tell a fact copied from Cog's tables from one a maintainer added.
 */

export interface PythonVersionRow {
  /** "3.12" */
  minor: string;
  /** "YYYY-MM" upstream end of life; builds still work, the plan notes it. */
  endOfLife: string;
  /** Whether Cog's own schema documents this version. */
  cog: boolean;
}

export interface PythonTable {
  source: string;
  /** "YYYY-MM" the table was last reviewed; end-of-life notes compare against it. */
  asOf: string;
  /** Minor version used when cog.yaml names none. */
  default: string;
  defaultWhy: string;
  versions: PythonVersionRow[];
}

export type CudaVariant = 'base' | 'runtime' | 'devel';

export interface CudaImageRow {
  /** Full CUDA version of the image, "12.1.1". */
  cuda: string;
  /** cuDNN major version in the image, or null for images without cuDNN. */
  cudnn: string | null;
  variant: CudaVariant;
  /** "22.04" */
  ubuntu: string;
  /** Tag on Docker Hub's nvidia/cuda, e.g. "12.1.1-cudnn8-runtime-ubuntu22.04". */
  tag: string;
  /** "cog": listed in Cog's table; "derived": same CUDA/Ubuntu, sibling variant (see table source). */
  source: 'cog' | 'derived' | 'maintainer';
}

export interface CudaImageTable {
  source: string;
  /** "docker.io/nvidia/cuda" */
  repository: string;
  /** Ubuntu versions in order of preference when several exist for one CUDA version. */
  ubuntuPreference: string[];
  /** CUDA (major.minor) for gpu models that name no framework and no build.cuda. */
  defaultCuda: string;
  defaultCudaWhy: string;
  ubuntuPreferenceWhy: string;
  images: CudaImageRow[];
}

export interface TorchBuild {
  /** "cpu" or "cu121": the local version label of the wheels and the index folder name. */
  variant: string;
  /** "12.1" or null for cpu. */
  cuda: string | null;
  /** "https://download.pytorch.org/whl/cu121" (no trailing slash). */
  indexUrl: string;
}

export interface TorchRelease {
  /** "2.1.0" */
  version: string;
  torchvision: string;
  torchaudio: string;
  /** Python minors with wheels for this release. */
  pythons: string[];
  builds: TorchBuild[];
  source: string;
}

export interface TorchTable {
  source: string;
  /** Index for wheels without CUDA (smallest CPU images). */
  cpuIndexUrl: string;
  /** Template for CUDA indexes: `{variant}` becomes e.g. cu121. */
  indexUrlTemplate: string;
  /** Packages whose pip installs compile CUDA code with nvcc (need a devel image). */
  nvccPackages: { names: string[]; source: string };
  releases: TorchRelease[];
}

export interface TensorflowRelease {
  version: string;
  /** "12.2" */
  cuda: string;
  /** "8.9" */
  cudnn: string;
  pythons: string[];
  source: string;
}

export interface TensorflowTable {
  source: string;
  releases: TensorflowRelease[];
}

export interface CpuBaseTable {
  source: string;
  /** Fully qualified reference, e.g. "docker.io/library/debian:bookworm-slim". */
  image: string;
  why: string;
}

export interface CompatTables {
  python: PythonTable;
  cudaImages: CudaImageTable;
  torch: TorchTable;
  tensorflow: TensorflowTable;
  cpuBase: CpuBaseTable;
}
