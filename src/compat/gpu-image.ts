import type { Config } from '../config/types.js';
import { imageRef, matchingImages, newestCudnnFor, pickImage } from './images.js';
import type { ParsedPins } from './pins.js';
import type { CompatTables, CudaVariant, TensorflowRelease } from './tables.js';
import type { FrameworkChoice, Toolchain, ToolchainOptions } from './toolchain.js';
import { compareVersions, major } from './versions.js';

/**
 * Chooses the nvidia/cuda image for a GPU model and records it on the toolchain: the CUDA version
 * (build.cuda, else tensorflow's, else torch's build, else the table default) and the smallest
 * flavour that works (see resolveToolchain for the rules). Returns whether tensorflow must be
 * installed as tensorflow[and-cuda] because no matching cuDNN image exists.
 */
export function chooseGpuImage(
  tc: Toolchain,
  config: Config,
  pins: ParsedPins,
  tables: CompatTables,
  options: ToolchainOptions,
  torch: FrameworkChoice | undefined,
  tf: TensorflowRelease | undefined,
): { tfAndCuda: boolean } {
  const imgs = tables.cudaImages;
  const cuda = config.build.cuda ?? tf?.cuda ?? torch?.cuda ?? imgs.defaultCuda;
  const cudaWhy = config.build.cuda
    ? 'build.cuda'
    : tf
      ? `tensorflow ${tf.version}`
      : torch?.cuda
        ? `torch ${torch.build} wheels`
        : `default for gpu models without a framework pin (${imgs.defaultCudaWhy})`;
  const nvccNeed = needsNvcc(config, pins, tables.torch.nvccPackages.names);
  let variant: CudaVariant;
  let cudnn: string | null = null;
  let why: string;
  if (tf || config.build.cudnn) {
    cudnn = config.build.cudnn ? major(config.build.cudnn) : major(tf!.cudnn);
  }
  if (options.cudaVariant) {
    variant = options.cudaVariant;
    why = 'chosen with --cuda-variant';
  } else if (nvccNeed) {
    variant = 'devel';
    why = `${nvccNeed} needs nvcc, which only devel images have`;
  } else if (tf) {
    variant = 'runtime';
    why = `tensorflow loads the system CUDA ${tf.cuda} and cuDNN ${tf.cudnn} libraries, which runtime images with cuDNN carry`;
  } else if (config.build.cudnn) {
    variant = 'runtime';
    why = `build.cudnn asks for cuDNN ${config.build.cudnn} in the image`;
  } else if (torch) {
    variant = 'base';
    why = `torch wheels bring their own CUDA and cuDNN libraries (${compareVersions(torch.version ?? '99', '1.13') >= 0 ? 'the nvidia-* wheels' : 'bundled in the wheel'}), so the base image (driver glue only) suffices and saves gigabytes over cudnn-devel`;
  } else {
    variant = 'runtime';
    cudnn = newestCudnnFor(imgs, cuda);
    why =
      'no known framework pin: packages such as onnxruntime-gpu or jax load the system CUDA and cuDNN libraries';
  }
  // A base image has no cuDNN; a variant forced to base drops it (the user asked for that).
  if (variant === 'base') cudnn = null;
  let tfAndCuda = false;
  let row = matchingImages(imgs, { cuda, cudnn, variant })[0];
  if (!row && tf && variant === 'runtime' && compareVersions(tf.version, '2.14.0') >= 0) {
    // NVIDIA publishes no cuDNN 8 image for some CUDA versions TF was built with (12.3); since
    // 2.14 TF can take CUDA and cuDNN from pip (`tensorflow[and-cuda]`), which needs only a base.
    variant = 'base';
    cudnn = null;
    tfAndCuda = true;
    why = `no cudnn${major(tf.cudnn)}-runtime image exists for CUDA ${tf.cuda}; tensorflow[and-cuda] brings CUDA and cuDNN as nvidia-* wheels, so the base image suffices`;
  }
  row ??= pickImage(imgs, { cuda, cudnn, variant }, cudaWhy);
  tc.cuda = row.cuda;
  if (row.cudnn) tc.cudnn = row.cudnn;
  tc.cudaVariant = variant;
  tc.cudaVariantWhy = why;
  tc.baseImage = {
    ref: imageRef(imgs, row),
    // The flavour's reasoning is in cudaVariantWhy; this says where the version and Ubuntu came from.
    why: `CUDA ${row.cuda} from ${cudaWhy}; ${row.cudnn ? `cuDNN ${row.cudnn}, ` : ''}${variant} flavour (see GPU); Ubuntu ${row.ubuntu}, the preferred Ubuntu published for it`,
    chosenBy: 'compat',
  };
  return { tfAndCuda };
}

/** The reason a devel image is needed, or undefined. */
function needsNvcc(config: Config, pins: ParsedPins, nvccPackages: string[]): string | undefined {
  const pkg = pins.requirements.find((r) => r.name !== undefined && nvccPackages.includes(r.name));
  if (pkg) return `${pkg.name} (${pkg.origin})`;
  const run = config.build.run.find((r) => /\bnvcc\b|CUDA_HOME|TORCH_CUDA_ARCH_LIST/.test(r.command));
  if (run) return `build.run "${run.command}"`;
  return undefined;
}
