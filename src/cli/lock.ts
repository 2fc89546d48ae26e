import type { CommandModule } from 'yargs';
import { NotImplementedError } from '../errors.js';
import type { GlobalOptions } from './common.js';

export const lockCommand: CommandModule<GlobalOptions, GlobalOptions> = {
  command: 'lock',
  describe: 'Resolve every input and write cogts.lock',
  handler: async () => {
    throw new NotImplementedError('cogts lock', 7);
  },
};
