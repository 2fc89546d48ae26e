import type { Requirement } from './pins.js';
import type { CudaVariant } from './tables.js';

export type { CudaVariant } from './tables.js';

/**
 * What the compat step decided for one model: which Python, which CUDA/cuDNN image (if any), which
 * wheel indexes, and how requirement pins were rewritten. Every decision carries a `why` so that
 * `cogts build --dry-run` can explain it. Plain data (JSON-serialisable).
 */
export interface Toolchain {
  python: {
    /** As requested ("3.11" or "3.11.7"), or the default minor. */
    version: string;
    /** "3.11" */
    minor: string;
    why: string;
  };
  gpu: boolean;
  /** Full CUDA version of the base image ("12.1.1"); absent for CPU images and --base-image. */
  cuda?: string;
  /** cuDNN major version present in the base image; absent when the image has none. */
  cudnn?: string;
  /** nvidia/cuda flavour; absent for CPU images. `runtime`/`devel` may come with cuDNN (`cudnn`). */
  cudaVariant?: CudaVariant;
  cudaVariantWhy?: string;
  baseImage: {
    /** Fully qualified reference, e.g. "docker.io/nvidia/cuda:12.1.1-base-ubuntu22.04". */
    ref: string;
    why: string;
    chosenBy: 'compat' | 'option';
  };
  torch?: FrameworkChoice;
  tensorflow?: FrameworkChoice;
  /** The torch wheel index added to the pip inputs (download.pytorch.org/whl/{cpu,cuXYZ}). */
  torchIndexUrl?: string;
  /** Every requirement, in order, after the rewrites below. */
  requirements: Requirement[];
  indexUrl?: string;
  extraIndexUrls: string[];
  findLinks: string[];
  rewrites: PinRewrite[];
  /** Things the user should know that are not errors (EOL Python, ignored build.cuda, …). */
  notes: string[];
}

export interface FrameworkChoice {
  /** The requirement as the user wrote it ("torch>=2,<2.2"). */
  requested: string;
  /** The release the decisions were made for ("2.1.2"); absent when newer than our tables. */
  version?: string;
  /** Whether `version` is in compat/; unknown releases build with the user's index as given. */
  known: boolean;
  /** Wheel build: "cu121", "cpu", or absent (tensorflow). */
  build?: string;
  /** CUDA the framework needs ("12.1"). */
  cuda?: string;
  cudnn?: string;
  why: string;
}

export interface PinRewrite {
  from: string;
  to: string;
  origin: string;
  why: string;
}

/** Choices the build command may force (flags), on top of cog.yaml. */
export interface ToolchainOptions {
  /** `--cuda-variant`: force base, runtime or devel. */
  cudaVariant?: CudaVariant;
  /** `--base-image`: use this image; Python/CUDA/index choices are still made for the pins. */
  baseImage?: string;
  /** `--index-url` / `--extra-index-url` from the command line; a torch index here counts as user-given. */
  indexUrl?: string;
  extraIndexUrls?: string[];
  /**
   * `--torch-index`: base URL of torch's per-build indexes (a mirror of
   * https://download.pytorch.org/whl, which is the default), or `none` to add no torch index.
   */
  torchIndex?: string;
}
