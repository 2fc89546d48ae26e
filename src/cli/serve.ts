import type { CommandModule } from 'yargs';
import { NotImplementedError } from '../errors.js';
import type { GlobalOptions } from './common.js';

export const serveCommand: CommandModule<GlobalOptions, GlobalOptions> = {
  command: 'serve',
  describe: 'Run the prediction server for the model in this folder with the local Python',
  handler: async () => {
    throw new NotImplementedError('cogts serve', 4);
  },
};
