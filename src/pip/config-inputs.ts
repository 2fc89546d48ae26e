/** What a validated cog.yaml contributes to Python resolution (requirements file and/or python_packages). */
import { join } from 'node:path';
import type { Config } from '../config/types.js';
import type { RequirementsInput } from './index.js';

export function requirementsFromConfig(config: Config): RequirementsInput[] {
  const inputs: RequirementsInput[] = [];
  if (config.build.pythonRequirements)
    inputs.push({ file: join(config.projectDir, config.build.pythonRequirements) });
  if (config.build.pythonPackages.length)
    inputs.push({
      lines: config.build.pythonPackages,
      source: `${config.file} (build.python_packages)`,
      baseDir: config.projectDir,
    });
  return inputs;
}
