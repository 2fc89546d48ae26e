import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { CogtsError, NotImplementedError } from '../errors.js';
import { buildCommand } from './build.js';
import { cacheCommand } from './cache.js';
import { cogtsVersion, globalOptions } from './common.js';
import { initCommand } from './init.js';
import { inspectCommand } from './inspect.js';
import { lockCommand } from './lock.js';
import { loginCommand } from './login.js';
import { predictCommand } from './predict.js';
import { serveCommand } from './serve.js';

export { cogtsVersion };

/** Exit codes: 0 ok, 1 a reported error (bad input, registry refused…), 2 usage / not implemented. */
export async function main(argv: string[] = hideBin(process.argv)): Promise<number> {
  let exitCode = 0;
  const parser = globalOptions(yargs(argv))
    .scriptName('cogts')
    .usage('$0 <command> [options]\n\nBuild Cog models into OCI images without Docker, and serve them.')
    .command(buildCommand)
    .command(serveCommand)
    .command(predictCommand)
    .command(initCommand)
    .command(inspectCommand)
    .command(lockCommand)
    .command(loginCommand)
    .command(cacheCommand)
    .demandCommand(1, 'Name a command: cogts <command> --help')
    .example('$0 init && $0 build --dry-run', 'Start a model and see what building it would do')
    .epilog(
      'Run cogts <command> --help for its options. Exit codes: 0 ok, 1 a reported error (bad cog.yaml, incompatible versions, registry refused), 2 usage errors and commands not implemented yet.',
    )
    .strict()
    .version(cogtsVersion())
    .help()
    .fail((msg, err, y) => {
      if (err) throw err;
      process.stderr.write(`${y.help()}\n\n${msg}\n`);
      exitCode = 2;
    });
  try {
    await parser.parseAsync();
  } catch (err) {
    return reportError(err, argv.includes('--verbose'));
  }
  return exitCode;
}

export function reportError(err: unknown, verbose: boolean): number {
  if (err instanceof CogtsError) {
    process.stderr.write(`error: ${err.message}\n`);
    if (err.hint) process.stderr.write(`hint: ${err.hint}\n`);
    if (verbose && err.cause) process.stderr.write(`cause: ${String(err.cause)}\n`);
    return err instanceof NotImplementedError ? 2 : 1;
  }
  process.stderr.write(
    `internal error (please report): ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  return 70;
}
