import type { CommandModule } from 'yargs';
import { NotImplementedError } from '../errors.js';
import type { GlobalOptions } from './common.js';

export const initCommand: CommandModule<GlobalOptions, GlobalOptions> = {
  command: 'init',
  describe: 'Write a starter cog.yaml, predict.py and .dockerignore',
  handler: async () => {
    throw new NotImplementedError('cogts init', 2);
  },
};
