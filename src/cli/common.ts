import { readFileSync } from 'node:fs';
import type { Argv } from 'yargs';

/** The package version (package.json next to dist/ or src/). */
export function cogtsVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** Options every command accepts (registered once on the root parser). */
export interface GlobalOptions {
  progress: 'auto' | 'plain' | 'json';
  verbose: boolean;
}

export function globalOptions<T>(y: Argv<T>) {
  return y
    .option('progress', {
      choices: ['auto', 'plain', 'json'] as const,
      default: 'auto' as const,
      describe: 'Progress output: bars on a TTY (auto), plain lines, or JSON events',
      global: true,
    })
    .option('verbose', { type: 'boolean', default: false, describe: 'Print debug detail', global: true });
}

/** `-f/--file` shared by commands that read a cog.yaml. */
export function fileOption<T>(y: Argv<T>) {
  return y.option('file', {
    alias: 'f',
    type: 'string',
    default: 'cog.yaml',
    describe: 'Path of the cog.yaml to use (its folder is the project directory)',
  });
}
