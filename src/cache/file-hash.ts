import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { atomicWrite } from '../atomic-write.js';

interface Known {
  size: number;
  mtimeNs: string;
  ctimeNs: string;
  ino: string;
  sha256: string;
}

/**
 * Content hashes of host files, remembered by (size, mtime, ctime, inode) like git's index, so a
 * warm build re-reads only files whose metadata changed: a 600 MB weights file is hashed once.
 * Files modified in the last `racyMs` are hashed but not remembered (git's "racily clean" rule: a
 * write within the timestamp's granularity after hashing would go unnoticed).
 */
export class FileHashes {
  private known = new Map<string, Known>();
  private changed = false;
  private constructor(private readonly file: string | undefined) {}

  static async open(cacheDir: string | undefined, scope: string): Promise<FileHashes> {
    if (!cacheDir) return new FileHashes(undefined);
    const file = join(cacheDir, 'file-hashes', `${createHash('sha256').update(scope).digest('hex')}.json`);
    const fh = new FileHashes(file);
    try {
      const data = JSON.parse(await readFile(file, 'utf8')) as Record<string, Known>;
      fh.known = new Map(Object.entries(data));
    } catch {
      // first build in this scope, or a damaged file: hash everything
    }
    return fh;
  }

  /** Hex sha256 of the file at `abs`. */
  async hash(abs: string, racyMs = 2000): Promise<string> {
    const st = await stat(abs, { bigint: true });
    const meta = {
      size: Number(st.size),
      mtimeNs: String(st.mtimeNs),
      ctimeNs: String(st.ctimeNs),
      ino: String(st.ino),
    };
    const k = this.known.get(abs);
    if (
      k &&
      k.size === meta.size &&
      k.mtimeNs === meta.mtimeNs &&
      k.ctimeNs === meta.ctimeNs &&
      k.ino === meta.ino
    )
      return k.sha256;
    const h = createHash('sha256');
    await pipeline(createReadStream(abs, { highWaterMark: 1 << 20 }), h);
    const sha256 = h.digest('hex');
    const newest = Math.max(Number(st.mtimeMs), Number(st.ctimeMs));
    if (Date.now() - newest > racyMs) {
      this.known.set(abs, { ...meta, sha256 });
      this.changed = true;
    } else if (k) {
      this.known.delete(abs);
      this.changed = true;
    }
    return sha256;
  }

  /** Writes what was learnt (atomically; a concurrent build's copy may win, which only costs a re-hash). */
  async save(): Promise<void> {
    if (!this.file || !this.changed) return;
    await atomicWrite(this.file, JSON.stringify(Object.fromEntries(this.known)));
    this.changed = false;
  }
}

/** Runs `fn` over `items` with at most `limit` at once, results in input order. */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  limit: number,
  fn: (t: T) => Promise<R>,
): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
