import type { Argv } from 'yargs';

/** `--registry-mirror` and `--insecure-registry`, as `cogts build` spells them. */
export function registryFlags<T>(y: Argv<T>) {
  return y
    .option('registry-mirror', {
      type: 'string',
      array: true,
      default: [] as string[],
      describe: 'HOST=URL: reach registry HOST at URL (repeatable; env COGTS_REGISTRY_MIRRORS)',
    })
    .option('insecure-registry', {
      type: 'string',
      array: true,
      default: [] as string[],
      describe: 'Allow plain HTTP to this registry host (loopback is always allowed)',
    });
}
