import { readPins } from '../compat/pins.js';
import { resolveToolchain } from '../compat/resolve.js';
import { loadConfig } from '../config/load.js';
import { makePlan } from './make.js';
import type { PlanOptions } from './options.js';
import type { BuildPlan } from './types.js';

/**
 * The whole front half of `cogts build`: read cog.yaml and the requirements it names, resolve the
 * toolchain, make the plan. The only I/O is reading those files; nothing touches the network.
 */
export async function planForProject(configFile: string, options: PlanOptions): Promise<BuildPlan> {
  const config = await loadConfig(configFile);
  const pins = await readPins(config);
  const toolchainOptions: Parameters<typeof resolveToolchain>[2] = { extraIndexUrls: options.extraIndexUrls };
  if (options.indexUrl) toolchainOptions.indexUrl = options.indexUrl;
  if (options.cudaVariant) toolchainOptions.cudaVariant = options.cudaVariant;
  if (options.baseImage) toolchainOptions.baseImage = options.baseImage;
  if (options.torchIndex) toolchainOptions.torchIndex = options.torchIndex;
  return makePlan(config, resolveToolchain(config, pins, toolchainOptions), options);
}
