import type { RawBuildOptions } from '../../src/plan/options.js';

/** `cogts build` with no flags, as yargs hands it over (shared by the plan tests). */
export const raw: RawBuildOptions = {
  registryMirror: [],
  insecureRegistry: [],
  platform: 'linux/amd64',
  cache: true,
  extraIndexUrl: [],
  aptMirror: [],
  locked: false,
};
