import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { CogtsError } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import type { Blob, ByteRange } from '../oci/types.js';
import { tapStream } from '../stream-tap.js';
import { header, type RegistryClient, type Response } from './client.js';
import { backoffMs, isTransientNetworkError, sleep } from './retry.js';

export async function headBlob(
  c: RegistryClient,
  repository: string,
  digest: Digest,
): Promise<number | undefined> {
  const res = await c.send({
    method: 'HEAD',
    path: `/v2/${repository}/blobs/${digest}`,
    repository,
    expect: [200, 404],
  });
  await res.body.dump();
  return res.status === 200 ? Number(header(res, 'content-length') ?? -1) : undefined;
}

async function openAt(
  c: RegistryClient,
  repository: string,
  digest: Digest,
  start: number,
  end?: number,
): Promise<Response> {
  const range =
    start > 0 || end !== undefined ? `bytes=${start}-${end !== undefined ? end - 1 : ''}` : undefined;
  const res = await c.send({
    method: 'GET',
    path: `/v2/${repository}/blobs/${digest}`,
    repository,
    headers: range ? { range } : {},
    expect: [200, 206],
  });
  if (range && res.status === 200 && start > 0) {
    // The server ignored Range: skip to the offset ourselves.
    let skip = start;
    const body = res.body;
    const rest = (async function* () {
      for await (const chunk of body) {
        const b = chunk as Buffer;
        if (skip >= b.length) {
          skip -= b.length;
          continue;
        }
        yield skip > 0 ? b.subarray(skip) : b;
        skip = 0;
      }
    })();
    return { ...res, body: Readable.from(rest) as never };
  }
  return res;
}

/**
 * Streams a blob, verifying its sha256 and size at the end (a mismatch is an error, never data):
 * a dropped connection resumes with a Range request at the byte reached, up to the retry policy.
 * Ranged reads (for chunked copies) cannot be verified here; the target registry verifies the
 * whole blob's digest when the upload is committed.
 */
export function fetchBlob(
  c: RegistryClient,
  repository: string,
  digest: Digest,
  size?: number,
  range?: ByteRange,
): Readable {
  const verifyWhole = range === undefined;
  const start0 = range?.start ?? 0;
  async function* gen(): AsyncGenerator<Buffer> {
    const hash = createHash('sha256');
    let offset = start0;
    for (let attempt = 1; ; attempt++) {
      const res = await openAt(c, repository, digest, offset, range?.end);
      try {
        for await (const chunk of res.body) {
          const b = chunk as Buffer;
          if (verifyWhole) hash.update(b);
          offset += b.length;
          yield b;
        }
        break;
      } catch (err) {
        if (!isTransientNetworkError(err) || attempt > c.retry.retries) {
          throw new CogtsError(
            'E_REGISTRY_NETWORK',
            `download of ${c.registry}/${repository}@${digest} failed at byte ${offset}: ${(err as Error).message}`,
            { cause: err },
          );
        }
        await sleep(backoffMs(c.retry, attempt));
      }
    }
    if (verifyWhole) {
      const actual = `sha256:${hash.digest('hex')}`;
      if (actual !== digest || (size !== undefined && offset !== size)) {
        throw new CogtsError(
          'E_DIGEST_MISMATCH',
          `blob ${c.registry}/${repository}@${digest} arrived with digest ${actual} (${offset} bytes${size !== undefined ? `, expected ${size}` : ''})`,
          { hint: 'the registry or a proxy altered the content; it was not used' },
        );
      }
    }
  }
  return Readable.from(gen(), { objectMode: false });
}

/** A Blob backed by a registry: opened lazily, resumable, verified. */
export function remoteBlob(
  c: RegistryClient,
  repository: string,
  desc: { digest: Digest; size: number; mediaType: string },
): Blob {
  return {
    digest: desc.digest,
    size: desc.size,
    mediaType: desc.mediaType,
    origin: { registry: c.registry, repository },
    open: async (range) => fetchBlob(c, repository, desc.digest, desc.size, range),
  };
}

export type UploadResult = 'exists' | 'mounted' | 'uploaded';

function withDigest(location: string, digest: Digest): string {
  const u = new URL(location);
  u.searchParams.set('digest', digest);
  return u.toString();
}

async function startUpload(
  c: RegistryClient,
  repository: string,
  mountFrom?: { repository: string; digest: Digest },
) {
  const q = mountFrom ? `?mount=${mountFrom.digest}&from=${encodeURIComponent(mountFrom.repository)}` : '';
  const res = await c.send({
    method: 'POST',
    path: `/v2/${repository}/blobs/uploads/${q}`,
    repository,
    actions: 'pull,push',
    ...(mountFrom ? { extraScopes: [`repository:${mountFrom.repository}:pull`] } : {}),
    headers: { 'content-length': '0' },
    expect: [201, 202],
  });
  await res.body.dump();
  if (res.status === 201) return { mounted: true as const };
  const minChunk = Number(header(res, 'oci-chunk-min-length') ?? 0);
  return {
    mounted: false as const,
    location: c.resolveLocation(res),
    minChunk: Number.isFinite(minChunk) ? minChunk : 0,
  };
}

/** Bytes the registry holds for an upload session (GET Location → 204 + Range: 0-N), or undefined if the session is gone. */
async function uploadOffset(
  c: RegistryClient,
  repository: string,
  location: string,
): Promise<number | undefined> {
  try {
    const res = await c.send({
      method: 'GET',
      path: location,
      repository,
      actions: 'pull,push',
      expect: [204, 200, 404],
    });
    await res.body.dump();
    if (res.status === 404) return undefined;
    const m = /(\d+)-(\d+)/.exec(header(res, 'range') ?? '');
    return m ? Number(m[2]) + 1 : 0;
  } catch {
    return undefined;
  }
}

/**
 * Puts a blob into `repository` unless it is there: HEAD, then cross-repository mount when the blob
 * lives in another repository of this registry (falling back to upload on 202), then a monolithic
 * PUT, or PATCH chunks for blobs over `chunkThreshold`. A failed chunk resumes at the offset the
 * registry confirms; a lost session restarts the upload.
 */
/** Bytes of a blob sent so far (restarts from the confirmed offset after a retried request). */
export type OnUploadBytes = (sent: number) => void;

async function openCounted(
  blob: Blob,
  range: ByteRange | undefined,
  onBytes?: OnUploadBytes,
): Promise<Readable> {
  const s = await blob.open(range);
  if (!onBytes) return s;
  // Progress counts from where this request starts (a retried chunk restarts at its offset).
  let sent = range?.start ?? 0;
  const counter = tapStream((chunk) => {
    sent += chunk.length;
    onBytes(sent);
  });
  s.on('error', (e) => counter.destroy(e));
  return s.pipe(counter);
}

export async function uploadBlob(
  c: RegistryClient,
  repository: string,
  blob: Blob,
  onBytes?: OnUploadBytes,
): Promise<UploadResult> {
  if ((await headBlob(c, repository, blob.digest)) !== undefined) return 'exists';
  const mount =
    blob.origin && blob.origin.registry === c.registry && blob.origin.repository !== repository
      ? { repository: blob.origin.repository, digest: blob.digest }
      : undefined;
  const threshold = c.options.chunkThreshold ?? 128 << 20;
  let lastErr: unknown;
  for (let attempt = 1; attempt <= c.retry.retries + 1; attempt++) {
    const session = await startUpload(c, repository, attempt === 1 ? mount : undefined);
    if (session.mounted) return 'mounted';
    try {
      if (blob.size <= threshold) {
        await putWhole(c, repository, session.location, blob, onBytes);
      } else {
        const chunk = Math.max(c.options.chunkSize ?? 64 << 20, session.minChunk);
        await putChunked(c, repository, session.location, blob, chunk, onBytes);
      }
      return 'uploaded';
    } catch (err) {
      if (err instanceof CogtsError && !/NETWORK|UNAVAILABLE/.test(err.code) && err.code !== 'E_UPLOAD_RETRY')
        throw err;
      lastErr = err;
      await sleep(backoffMs(c.retry, attempt));
    }
  }
  throw new CogtsError(
    'E_UPLOAD',
    `upload of ${blob.digest} to ${c.registry}/${repository} failed: ${(lastErr as Error).message}`,
    {
      cause: lastErr,
    },
  );
}

async function putWhole(
  c: RegistryClient,
  repository: string,
  location: string,
  blob: Blob,
  onBytes?: OnUploadBytes,
): Promise<void> {
  const res = await c.send({
    method: 'PUT',
    path: withDigest(location, blob.digest),
    repository,
    actions: 'pull,push',
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(blob.size) },
    body: () => openCounted(blob, undefined, onBytes),
    expect: [201, 204],
    noRetry: true,
  });
  await res.body.dump();
}

async function putChunked(
  c: RegistryClient,
  repository: string,
  location0: string,
  blob: Blob,
  chunk: number,
  onBytes?: OnUploadBytes,
): Promise<void> {
  let location = location0;
  let offset = 0;
  let failures = 0;
  while (offset < blob.size) {
    const end = Math.min(offset + chunk, blob.size);
    const start = offset;
    try {
      const res = await c.send({
        method: 'PATCH',
        path: location,
        repository,
        actions: 'pull,push',
        headers: {
          'content-type': 'application/octet-stream',
          'content-length': String(end - start),
          'content-range': `${start}-${end - 1}`,
        },
        body: () => openCounted(blob, { start, end }, onBytes),
        expect: [202],
        noRetry: true,
      });
      await res.body.dump();
      location = c.resolveLocation(res);
      offset = end;
      failures = 0;
    } catch (err) {
      if (++failures > c.retry.retries) throw err;
      await sleep(backoffMs(c.retry, failures));
      const confirmed = await uploadOffset(c, repository, location);
      if (confirmed === undefined)
        throw new CogtsError('E_UPLOAD_RETRY', `upload session lost at byte ${start}`, { cause: err });
      offset = confirmed;
    }
  }
  const res = await c.send({
    method: 'PUT',
    path: withDigest(location, blob.digest),
    repository,
    actions: 'pull,push',
    headers: { 'content-length': '0' },
    expect: [201, 204],
  });
  await res.body.dump();
}
