import type { RegistryOptions } from './client.js';
import { parseMirrors } from './endpoint.js';

/** The registry flags every command shares (`--registry-mirror`, `--insecure-registry`). */
export interface RegistryFlags {
  registryMirror?: string[];
  insecureRegistry?: string[];
}

/** Flags plus `COGTS_REGISTRY_MIRRORS` (comma-separated HOST=URL; flags win for the same host). */
export function registryOptionsFrom(
  flags: RegistryFlags,
  env: NodeJS.ProcessEnv = process.env,
): RegistryOptions {
  const mirrors = {
    ...parseMirrors(env.COGTS_REGISTRY_MIRRORS ? [env.COGTS_REGISTRY_MIRRORS] : []),
    ...parseMirrors(flags.registryMirror ?? []),
  };
  return { mirrors, insecureRegistries: flags.insecureRegistry ?? [] };
}
