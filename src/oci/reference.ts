import { CogtsError } from '../errors.js';
import { type Digest, isDigest } from './digest.js';

/**
 * An image reference split the way Docker splits it. `registry` is the name users write
 * (`docker.io`, `ghcr.io`, `127.0.0.1:5000`, `[::1]:5000`); where it is reached is decided later
 * (registry-1.docker.io for docker.io, or a mirror), so a mirror never changes an image's name.
 */
export interface Reference {
  registry: string;
  repository: string;
  tag?: string;
  digest?: Digest;
}

export const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

// Grammar from the distribution reference package (re-expressed, not copied).
const COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const HOST =
  /^(?:\[[0-9a-fA-F:.]+\]|[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*)(?::\d+)?$/;

function bad(input: string, why: string): CogtsError {
  return new CogtsError('E_REFERENCE', `invalid image reference "${input}": ${why}`, {
    hint: 'write it like registry.example.com/team/model:tag or name@sha256:<hex>',
  });
}

/** A first path component is a registry when it looks like a host (Docker's rule). */
function looksLikeRegistry(component: string): boolean {
  return (
    component.includes('.') ||
    component.includes(':') ||
    component === 'localhost' ||
    component !== component.toLowerCase()
  );
}

export function parseReference(input: string): Reference {
  let rest = input.trim();
  if (rest === '') throw bad(input, 'it is empty');
  let digest: Digest | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    const d = rest.slice(at + 1);
    if (!isDigest(d)) throw bad(input, `"${d}" is not a sha256 digest`);
    digest = d;
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/') && !rest.slice(colon).includes(']')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw bad(input, `tag "${tag}" has characters a tag cannot have`);
  }
  let registry = DOCKER_HUB;
  let repository = rest;
  const slash = rest.indexOf('/');
  if (slash >= 0 && looksLikeRegistry(rest.slice(0, slash))) {
    registry = rest.slice(0, slash);
    repository = rest.slice(slash + 1);
    if (!HOST.test(registry)) throw bad(input, `"${registry}" is not a valid registry host`);
  } else if (slash < 0 && looksLikeRegistry(rest) && rest !== rest.toLowerCase()) {
    throw bad(input, 'repository names must be lowercase');
  }
  if (DOCKER_HUB_ALIASES.has(registry)) {
    registry = DOCKER_HUB;
    if (!repository.includes('/')) repository = `library/${repository}`;
  }
  if (repository === '') throw bad(input, 'the repository name is empty');
  for (const c of repository.split('/')) {
    if (!COMPONENT.test(c))
      throw bad(input, `path component "${c}" must be lowercase letters, digits and . _ -`);
  }
  if (registry.length + repository.length > 254) throw bad(input, 'the name is longer than 255 characters');
  const ref: Reference = { registry, repository };
  if (tag !== undefined) ref.tag = tag;
  if (digest !== undefined) ref.digest = digest;
  if (tag === undefined && digest === undefined) ref.tag = 'latest';
  return ref;
}

/** `registry/repository[:tag][@digest]`, fully qualified (docker.io/library/x stays explicit). */
export function formatReference(ref: Reference): string {
  let s = `${ref.registry}/${ref.repository}`;
  if (ref.tag !== undefined) s += `:${ref.tag}`;
  if (ref.digest !== undefined) s += `@${ref.digest}`;
  return s;
}

/** What a manifest request names: the digest when pinned (it wins over the tag), else the tag. */
export function referenceTarget(ref: Reference): string {
  return ref.digest ?? ref.tag ?? 'latest';
}

export function withDigest(ref: Reference, digest: Digest): Reference {
  return { registry: ref.registry, repository: ref.repository, digest };
}
