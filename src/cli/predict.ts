import type { CommandModule } from 'yargs';
import { NotImplementedError } from '../errors.js';
import type { GlobalOptions } from './common.js';

export const predictCommand: CommandModule<GlobalOptions, GlobalOptions> = {
  command: 'predict',
  describe: 'Run one prediction with the local Python and print its output',
  handler: async () => {
    throw new NotImplementedError('cogts predict', 4);
  },
};
