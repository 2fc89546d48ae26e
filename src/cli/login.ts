import type { CommandModule } from 'yargs';
import { NotImplementedError } from '../errors.js';
import type { GlobalOptions } from './common.js';

export const loginCommand: CommandModule<GlobalOptions, GlobalOptions> = {
  command: 'login',
  describe: 'Store registry credentials in the Docker config',
  handler: async () => {
    throw new NotImplementedError('cogts login', 3);
  },
};
