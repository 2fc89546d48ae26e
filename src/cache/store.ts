import { readdir, readFile, rm, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { atomicWrite } from '../atomic-write.js';
import { fileLayer } from '../layer/build.js';
import { type Digest, digestHex, isDigest } from '../oci/digest.js';
import type { Layer } from '../oci/types.js';

/**
 * What one cached layer build produced. `empty` records a layer whose source had nothing to add, so
 * a warm build skips it without asking the source.
 */
export type CacheRecord =
  | { key: string; kind: string; id: string; empty: true }
  | {
      key: string;
      kind: string;
      id: string;
      empty?: false;
      diffId: Digest;
      digest: Digest;
      size: number;
      mediaType: string;
    };

export type LayerRecord = Extract<CacheRecord, { empty?: false }>;

/** A record as found on disk, with the time it was last used (the index file's mtime: the LRU clock). */
export type StoredRecord = CacheRecord & { lastUsed: number };

const KEY_RE = /^[0-9a-f]{64}$/;

/** One pip layer as a plan records it: enough to key and describe the layer without its wheels. */
export interface PipPlanGroup {
  /** "python-packages", or "python-<name>" for a big package's own layer. */
  name: string;
  description: string;
  /** LayerGroup.contentKey: the layer's cache key material. */
  contentKey: string;
}

/** Pip plan key (src/pip/plan-key.ts) → the pip layers that resolution installed into. */
export interface PipPlanRecord {
  key: string;
  groups: PipPlanGroup[];
}

/** Shape check for plans read from disk or a registry: anything else is treated as absent. */
export function isPipPlanRecord(v: unknown): v is PipPlanRecord {
  const r = v as PipPlanRecord | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.key === 'string' &&
    KEY_RE.test(r.key) &&
    Array.isArray(r.groups) &&
    r.groups.every(
      (g) =>
        typeof g === 'object' &&
        g !== null &&
        typeof g.name === 'string' &&
        typeof g.description === 'string' &&
        typeof g.contentKey === 'string' &&
        /^sha256:[0-9a-f]{64}$/.test(g.contentKey),
    )
  );
}

/**
 * A content-addressed layer cache in one folder, shaped like npm's cacache: `index/<key>.json` maps an
 * input key to a record, `blobs/sha256/<hex>` holds compressed layers (the folder buildLayer writes
 * into). Every write is a temp file renamed into place, so concurrent builds sharing the folder see a
 * whole record or none; two builds of one key write identical bytes, and the last rename wins.
 */
export class LayerCache {
  constructor(readonly dir: string) {}

  get blobDir(): string {
    return join(this.dir, 'blobs');
  }

  blobPath(digest: Digest): string {
    return join(this.blobDir, 'sha256', digestHex(digest));
  }

  private recordPath(key: string): string {
    return join(this.dir, 'index', `${key}.json`);
  }

  /**
   * The record for `key` when it and its blob are intact; touches both so pruning sees the use.
   * A damaged or half-pruned entry is a miss, never an error: the layer is simply rebuilt.
   */
  async lookup(key: string): Promise<CacheRecord | undefined> {
    if (!KEY_RE.test(key)) return undefined;
    const file = this.recordPath(key);
    let rec: CacheRecord;
    try {
      rec = JSON.parse(await readFile(file, 'utf8')) as CacheRecord;
    } catch {
      return undefined;
    }
    if (rec.key !== key) return undefined;
    const now = new Date();
    if (!rec.empty) {
      if (!isDigest(rec.digest) || !isDigest(rec.diffId)) return undefined;
      const path = this.blobPath(rec.digest);
      const st = await stat(path).catch(() => undefined);
      if (st?.size !== rec.size) return undefined;
      await utimes(path, now, now).catch(() => {});
    }
    await utimes(file, now, now).catch(() => {});
    return rec;
  }

  /** Records a build; the blob must already be in `blobDir` (buildLayer put it there). */
  async store(rec: CacheRecord): Promise<void> {
    await atomicWrite(this.recordPath(rec.key), JSON.stringify(rec));
  }

  /** Every readable record, oldest use first. */
  async records(): Promise<StoredRecord[]> {
    const dir = join(this.dir, 'index');
    const names = await readdir(dir).catch(() => [] as string[]);
    const out: StoredRecord[] = [];
    for (const n of names) {
      if (!n.endsWith('.json')) continue;
      const file = join(dir, n);
      try {
        const [text, st] = await Promise.all([readFile(file, 'utf8'), stat(file)]);
        out.push({ ...(JSON.parse(text) as CacheRecord), lastUsed: st.mtimeMs });
      } catch {
        // removed by a concurrent prune, or damaged: not a record
      }
    }
    return out.sort((a, b) => a.lastUsed - b.lastUsed);
  }

  async remove(key: string): Promise<void> {
    if (KEY_RE.test(key)) await rm(this.recordPath(key), { force: true });
  }

  /** `pip-plans/<key>.json`; pruned by last use (mtime) like the layer records (src/cache/prune.ts). */
  get pipPlanDir(): string {
    return join(this.dir, 'pip-plans');
  }

  private pipPlanPath(key: string): string {
    return join(this.pipPlanDir, `${key}.json`);
  }

  /** The pip plan for `key`, touched so pruning sees the use; a damaged file is a miss. */
  async lookupPipPlan(key: string): Promise<PipPlanRecord | undefined> {
    if (!KEY_RE.test(key)) return undefined;
    const file = this.pipPlanPath(key);
    let rec: unknown;
    try {
      rec = JSON.parse(await readFile(file, 'utf8'));
    } catch {
      return undefined;
    }
    if (!isPipPlanRecord(rec) || rec.key !== key) return undefined;
    const now = new Date();
    await utimes(file, now, now).catch(() => {});
    return { key: rec.key, groups: rec.groups };
  }

  async storePipPlan(rec: PipPlanRecord): Promise<void> {
    if (!KEY_RE.test(rec.key)) return;
    await atomicWrite(this.pipPlanPath(rec.key), JSON.stringify({ key: rec.key, groups: rec.groups }));
  }

  async removePipPlan(key: string): Promise<void> {
    if (KEY_RE.test(key)) await rm(this.pipPlanPath(key), { force: true });
  }
}

/** A cached layer as the image assembler wants it: bytes opened from the blob file on demand. */
export function layerFromRecord(cache: LayerCache, rec: LayerRecord): Layer {
  const { diffId, digest, size, mediaType } = rec;
  return fileLayer(cache.blobPath(digest), { diffId, digest, size, mediaType });
}
