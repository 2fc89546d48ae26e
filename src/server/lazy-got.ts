import type { Got } from 'got';

let loading: Promise<Got> | undefined;

/**
 * got, loaded on first use: it adds ~20 MB RSS to the server, and most deployments never send a
 * webhook or upload a file (static import string, so esbuild still bundles it).
 */
export function lazyGot(): Promise<Got> {
  loading ??= import('got').then((m) => m.default);
  return loading;
}
