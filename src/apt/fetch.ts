import { createHash } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Agent, interceptors, request } from 'undici';
import { CogtsError } from '../errors.js';

// One pooled agent for all archive traffic; redirects followed like apt does (mirrors redirect).
const dispatcher = new Agent({ connections: 8, headersTimeout: 30_000, bodyTimeout: 120_000 }).compose(
  interceptors.redirect({ maxRedirections: 5 }),
);

/** GETs a small document (InRelease) whole. 404 → undefined so callers can try alternatives. */
export async function fetchBuffer(url: string): Promise<Buffer | undefined> {
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(url, { dispatcher });
  } catch (e) {
    throw unreachable(url, e);
  }
  if (res.statusCode === 404 || res.statusCode === 410) {
    await res.body.dump();
    return undefined;
  }
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new CogtsError('E_APT_FETCH', `GET ${url} answered HTTP ${res.statusCode}`);
  }
  return Buffer.from(await res.body.arrayBuffer());
}

function unreachable(url: string, e: unknown): CogtsError {
  const why = e instanceof Error ? ((e as Error & { code?: string }).code ?? e.message) : String(e);
  return new CogtsError('E_APT_UNREACHABLE', `cannot reach the apt archive at ${url} (${why})`, {
    hint: 'check the network, or point at a reachable mirror with --apt-mirror FROM=TO',
    cause: e,
  });
}

/**
 * Content-addressed store: files live at `<cacheDir>/sha256/<hex>` and are only ever written under
 * their verified hash (tmp file + rename), so a present file is a trusted one.
 */
export function casPath(cacheDir: string, sha256: string): string {
  return join(cacheDir, 'sha256', sha256.slice(0, 2), sha256);
}

/**
 * Downloads `url` into the store, streaming and hashing; a hash mismatch deletes the partial file
 * and raises. Returns the cached path (no request at all when it is already there).
 */
export async function fetchToCache(
  url: string,
  sha256: string,
  cacheDir: string,
  what: string,
): Promise<string> {
  const dest = casPath(cacheDir, sha256);
  if (existsSync(dest)) return dest;
  mkdirSync(dirname(dest), { recursive: true });
  const tmp = `${dest}.${process.pid}.${Date.now()}.part`;
  let res: Awaited<ReturnType<typeof request>>;
  try {
    res = await request(url, { dispatcher });
  } catch (e) {
    throw unreachable(url, e);
  }
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new CogtsError('E_APT_FETCH', `GET ${url} (${what}) answered HTTP ${res.statusCode}`);
  }
  const hash = createHash('sha256');
  const tap = new Transform({
    transform(chunk, _enc, cb) {
      hash.update(chunk);
      cb(null, chunk);
    },
  });
  try {
    await pipeline(res.body, tap, createWriteStream(tmp));
  } catch (e) {
    rmSync(tmp, { force: true });
    throw unreachable(url, e);
  }
  const got = hash.digest('hex');
  if (got !== sha256) {
    rmSync(tmp, { force: true });
    throw new CogtsError(
      'E_APT_HASH',
      `${what}: sha256 mismatch for ${url}: expected ${sha256}, got ${got}`,
      {
        hint: 'the mirror serves a file that does not match its signed index (stale or tampered mirror)',
      },
    );
  }
  renameSync(tmp, dest);
  return dest;
}
