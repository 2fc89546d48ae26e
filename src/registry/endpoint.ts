import { isIP } from 'node:net';
import { CogtsError } from '../errors.js';
import { DOCKER_HUB } from '../oci/reference.js';

/**
 * Where a registry is reached. A mirror (`docker.io=http://127.0.0.1:5000`) changes only this, never
 * the image's name, so labels and tags keep saying docker.io/...
 */
export interface Endpoint {
  /** The registry as named in references (`docker.io`, `127.0.0.1:5000`). */
  registry: string;
  /** Base URL without trailing slash, e.g. `https://registry-1.docker.io`. */
  baseUrl: string;
  /** Plain HTTP or an unverified certificate is acceptable here. */
  insecure: boolean;
  /** The scheme was chosen by us (not given by a mirror URL), so http may be tried after https. */
  schemeGuessed: boolean;
}

export interface EndpointOptions {
  /** Registries (host or host:port, as written in references) allowed over plain HTTP. */
  insecureRegistries?: readonly string[];
  /** registry → URL (`docker.io` → `http://127.0.0.1:5000`). */
  mirrors?: Readonly<Record<string, string>>;
}

export function hostOf(registry: string): string {
  if (registry.startsWith('[')) return registry.slice(1, registry.indexOf(']'));
  const i = registry.lastIndexOf(':');
  return i >= 0 ? registry.slice(0, i) : registry;
}

export function isLoopback(registry: string): boolean {
  const host = hostOf(registry).toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || /^::ffff:127\./.test(host);
  return false;
}

/** `HOST=URL` pairs from `--registry-mirror` and `COGTS_REGISTRY_MIRRORS` (comma separated). */
export function parseMirrors(specs: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of specs.flatMap((s) => s.split(','))) {
    const spec = raw.trim();
    if (spec === '') continue;
    const eq = spec.indexOf('=');
    const registry = eq > 0 ? spec.slice(0, eq) : '';
    const url = spec.slice(eq + 1).replace(/\/+$/, '');
    if (!registry || !/^https?:\/\/[^/]+(\/.*)?$/.test(url)) {
      throw new CogtsError('E_MIRROR', `invalid registry mirror "${spec}"`, {
        hint: 'write REGISTRY=URL, e.g. docker.io=http://127.0.0.1:5000',
      });
    }
    out[registry === 'index.docker.io' ? DOCKER_HUB : registry] = url;
  }
  return out;
}

export function resolveEndpoint(registry: string, opts: EndpointOptions = {}): Endpoint {
  const insecure = isLoopback(registry) || (opts.insecureRegistries ?? []).includes(registry);
  const mirror = opts.mirrors?.[registry];
  if (mirror !== undefined) {
    const url = new URL(mirror);
    return {
      registry,
      baseUrl: mirror.replace(/\/+$/, ''),
      insecure: insecure || isLoopback(url.host) || (opts.insecureRegistries ?? []).includes(url.host),
      schemeGuessed: false,
    };
  }
  const host = registry === DOCKER_HUB ? 'registry-1.docker.io' : registry;
  // Loopback registries are almost always plain HTTP (a local `registry:2`); others are HTTPS.
  const scheme = isLoopback(registry) ? 'http' : 'https';
  return { registry, baseUrl: `${scheme}://${host}`, insecure, schemeGuessed: true };
}
