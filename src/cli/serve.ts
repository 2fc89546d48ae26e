import type { CommandModule } from 'yargs';
import { loadConfig } from '../config/load.js';
import { startServerForConfig } from '../server/from-config.js';
import { fileOption, type GlobalOptions } from './common.js';

interface ServeOptions extends GlobalOptions {
  file: string;
  port: number;
  host: string;
  'upload-url'?: string;
  python: string;
}

export const serveCommand: CommandModule<GlobalOptions, ServeOptions> = {
  command: 'serve',
  describe: 'Run the prediction server for the model in this folder with the local Python',
  builder: (y) =>
    fileOption(y)
      .option('port', {
        alias: 'p',
        type: 'number',
        default: Number.parseInt(process.env.PORT ?? '5000', 10),
      })
      .option('host', { type: 'string', default: process.env.HOST ?? '127.0.0.1' })
      .option('upload-url', {
        type: 'string',
        describe: 'PUT file outputs to {url}/{name} instead of data URLs',
      })
      .option('python', {
        type: 'string',
        default: process.env.COGTS_PYTHON ?? 'python3',
        describe: 'Python that runs the predictor (env COGTS_PYTHON)',
      }) as never,
  handler: async (argv) => {
    const config = await loadConfig(argv.file);
    let stopped!: () => void;
    const done = new Promise<void>((r) => {
      stopped = r;
    });
    const server = await startServerForConfig(config, {
      port: argv.port,
      host: argv.host,
      python: argv.python,
      ...(argv['upload-url'] ? { uploadUrl: argv['upload-url'] } : {}),
      ...(argv.verbose ? { logLevel: 'debug' as const } : {}),
      onShutdown: () => stopped(), // POST /shutdown
    });
    const stop = () => void server.close().then(() => stopped());
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    await done;
  },
};
