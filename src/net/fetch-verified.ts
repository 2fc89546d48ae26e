import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Agent, interceptors, request } from 'undici';
import { CogtsError } from '../errors.js';

/** An expected content hash: `sha256` hex (Debian, PyPI, OCI) or an SRI string (npm `integrity`). */
export type ExpectedHash = { sha256: string } | { integrity: string };

function hashSpec(expected: ExpectedHash): { algorithm: string; digest: string; encoding: 'hex' | 'base64' } {
  if ('sha256' in expected)
    return { algorithm: 'sha256', digest: expected.sha256.toLowerCase(), encoding: 'hex' };
  const m = /^(sha256|sha384|sha512)-([A-Za-z0-9+/=]+)$/.exec(expected.integrity.trim());
  if (!m) throw new CogtsError('E_INTEGRITY', `unsupported integrity string: ${expected.integrity}`);
  return { algorithm: m[1]!, digest: m[2]!, encoding: 'base64' };
}

async function hashFile(path: string, algorithm: string, encoding: 'hex' | 'base64'): Promise<string> {
  const h = createHash(algorithm);
  await pipeline(createReadStream(path), h);
  return h.digest(encoding);
}

// Registries and CDNs answer package downloads with redirects (npm, GitHub releases, PyPI files).
const redirecting = new Agent().compose(interceptors.redirect({ maxRedirections: 5 }));

/**
 * Downloads `url` to `dest` unless a file with the expected hash is already there, verifying the hash
 * while streaming (bounded memory) and renaming into place only when it matches, so a cache never
 * holds a partial or tampered file and concurrent builds never see one.
 */
export async function fetchVerified(url: string, expected: ExpectedHash, dest: string): Promise<string> {
  const spec = hashSpec(expected);
  if (await stat(dest).catch(() => undefined)) {
    if ((await hashFile(dest, spec.algorithm, spec.encoding)) === spec.digest) return dest;
    await rm(dest, { force: true });
  }
  await mkdir(dirname(dest), { recursive: true });
  const tmp = `${dest}.${process.pid}.${Date.now()}.partial`;
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(url, { dispatcher: redirecting });
  } catch (err) {
    throw new CogtsError('E_FETCH', `cannot download ${url}: ${(err as Error).message}`, {
      hint: 'check the network or point cogts at a mirror',
      cause: err,
    });
  }
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new CogtsError('E_FETCH', `GET ${url} answered HTTP ${res.statusCode}`);
  }
  const h = createHash(spec.algorithm);
  const tee = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      h.update(chunk);
      cb(null, chunk);
    },
  });
  try {
    await pipeline(res.body, tee, createWriteStream(tmp));
    const got = h.digest(spec.encoding);
    if (got !== spec.digest) {
      throw new CogtsError(
        'E_DIGEST_MISMATCH',
        `${url}: ${spec.algorithm} is ${got}, expected ${spec.digest}; the file was not used`,
        { hint: 'the server or a mirror returned different bytes than the pinned hash' },
      );
    }
    await rename(tmp, dest);
    return dest;
  } finally {
    await rm(tmp, { force: true });
  }
}
