import { CogtsError } from '../errors.js';
import { type Digest, isDigest, sha256Digest } from '../oci/digest.js';
import { MANIFEST_ACCEPT } from '../oci/media-types.js';
import type { RegistryClient } from './client.js';
import { header } from './client.js';

export interface FetchedManifest {
  /** Exact bytes as served: the digest is over these, so they are never re-serialised. */
  bytes: Buffer;
  mediaType: string;
  digest: Digest;
}

/** Refuses content whose hash is not what the request or the registry promised. */
function verify(registry: string, repository: string, ref: string, bytes: Buffer, claimed?: string): Digest {
  const actual = sha256Digest(bytes);
  const expected = isDigest(ref) ? ref : claimed;
  if (expected?.startsWith('sha256:') && expected !== actual) {
    throw new CogtsError(
      'E_DIGEST_MISMATCH',
      `manifest ${registry}/${repository}@${ref} has digest ${actual}, but ${isDigest(ref) ? 'was requested as' : 'the registry claimed'} ${expected}`,
      { hint: 'the registry or a proxy in between altered the content; do not use it' },
    );
  }
  return actual;
}

const MAX_MANIFEST = 4 << 20;

export async function getManifest(
  c: RegistryClient,
  repository: string,
  ref: string,
): Promise<FetchedManifest> {
  const res = await c.send({
    method: 'GET',
    path: `/v2/${repository}/manifests/${ref}`,
    repository,
    headers: { accept: MANIFEST_ACCEPT },
    expect: [200],
  });
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const chunk of res.body) {
    n += (chunk as Buffer).length;
    if (n > MAX_MANIFEST)
      throw new CogtsError('E_MANIFEST', `manifest ${c.registry}/${repository}:${ref} is over 4 MiB`);
    chunks.push(chunk as Buffer);
  }
  const bytes = Buffer.concat(chunks);
  const digest = verify(c.registry, repository, ref, bytes, header(res, 'docker-content-digest'));
  let mediaType = header(res, 'content-type')?.split(';')[0]?.trim();
  try {
    const parsed = JSON.parse(bytes.toString('utf8')) as { mediaType?: string };
    if (parsed.mediaType) mediaType = parsed.mediaType;
  } catch (err) {
    throw new CogtsError('E_MANIFEST', `manifest ${c.registry}/${repository}:${ref} is not JSON`, {
      cause: err,
    });
  }
  if (!mediaType)
    throw new CogtsError('E_MANIFEST', `manifest ${c.registry}/${repository}:${ref} has no media type`);
  return { bytes, mediaType, digest };
}

/** HEAD: digest and type without a GET (Docker Hub counts GETs against pull limits). */
export async function headManifest(
  c: RegistryClient,
  repository: string,
  ref: string,
): Promise<{ digest: Digest; mediaType: string; size: number } | undefined> {
  const res = await c.send({
    method: 'HEAD',
    path: `/v2/${repository}/manifests/${ref}`,
    repository,
    headers: { accept: MANIFEST_ACCEPT },
    expect: [200, 404],
  });
  await res.body.dump();
  if (res.status === 404) return undefined;
  const digest = header(res, 'docker-content-digest');
  if (!digest || !isDigest(digest)) return undefined;
  return {
    digest,
    mediaType: header(res, 'content-type')?.split(';')[0]?.trim() ?? '',
    size: Number(header(res, 'content-length') ?? 0),
  };
}

/** PUT the exact bytes under a tag or digest; returns the digest (checked against the registry's). */
export async function putManifest(
  c: RegistryClient,
  repository: string,
  ref: string,
  bytes: Buffer,
  mediaType: string,
): Promise<Digest> {
  const digest = sha256Digest(bytes);
  const res = await c.send({
    method: 'PUT',
    path: `/v2/${repository}/manifests/${ref}`,
    repository,
    actions: 'pull,push',
    headers: { 'content-type': mediaType },
    body: bytes,
    expect: [201, 200, 202],
  });
  await res.body.dump();
  const claimed = header(res, 'docker-content-digest');
  if (claimed && claimed !== digest) {
    throw new CogtsError(
      'E_DIGEST_MISMATCH',
      `registry ${c.registry} stored manifest ${repository}:${ref} as ${claimed}, expected ${digest}`,
    );
  }
  return digest;
}
