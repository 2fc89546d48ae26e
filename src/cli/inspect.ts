import type { CommandModule } from 'yargs';
import { NotImplementedError } from '../errors.js';
import type { GlobalOptions } from './common.js';

export const inspectCommand: CommandModule<GlobalOptions, GlobalOptions> = {
  command: 'inspect',
  describe: 'Show the manifest, config, labels and schema of a pushed image',
  handler: async () => {
    throw new NotImplementedError('cogts inspect', 3);
  },
};
