import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { CogtsError } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import { isPipPlanRecord, LayerCache } from './store.js';

export interface CacheItem {
  kind: 'layer' | 'blob' | 'rootfs' | 'plan';
  /** Record key, blob digest, or snapshot / pip plan file name. */
  name: string;
  bytes: number;
  lastUsed: number;
  /** For layers: the layer id and kind the record was made for; for plans: how many pip layers. */
  what?: string;
}

export interface CacheUsage {
  /** Layer records with their blob (a blob shared by two records is counted once, on the newest). */
  items: CacheItem[];
  /** Everything pruning manages. */
  bytes: number;
  /** Download caches kept by the layer sources (apt, pip, node, python): reported, not pruned here. */
  downloads: { name: string; bytes: number }[];
}

const DAY = 24 * 3600 * 1000;

async function entriesWithStat(dir: string) {
  const names = await readdir(dir).catch(() => [] as string[]);
  const out: { name: string; path: string; size: number; mtimeMs: number; dir: boolean }[] = [];
  for (const name of names) {
    const path = join(dir, name);
    const st = await stat(path).catch(() => undefined);
    if (st) out.push({ name, path, size: st.size, mtimeMs: st.mtimeMs, dir: st.isDirectory() });
  }
  return out;
}

async function treeBytes(path: string): Promise<number> {
  const st = await stat(path).catch(() => undefined);
  if (!st) return 0;
  if (!st.isDirectory()) return st.size;
  let n = 0;
  for (const e of await readdir(path).catch(() => [] as string[])) n += await treeBytes(join(path, e));
  return n;
}

/**
 * Everything in the cache folder that pruning manages, least recently used first: layer records
 * (with their blob's size), blobs no record points to, base rootfs snapshots and pip plans. A plan
 * outliving its layers, or the other way round, only costs a download: each is looked up on its own.
 */
export async function cacheUsage(dir: string): Promise<CacheUsage> {
  const cache = new LayerCache(dir);
  const records = await cache.records();
  const blobs = await entriesWithStat(join(cache.blobDir, 'sha256'));
  const blobSize = new Map(blobs.map((b) => [b.name, b]));
  const items: CacheItem[] = [];
  // Newest record first, so a shared blob's bytes are charged to its most recent use.
  const charged = new Set<string>();
  for (const r of [...records].reverse()) {
    const hex = r.empty ? undefined : (r.digest as Digest).slice(7);
    const b = hex ? blobSize.get(hex) : undefined;
    const bytes = b && hex && !charged.has(hex) ? b.size : 0;
    if (hex) charged.add(hex);
    items.push({ kind: 'layer', name: r.key, bytes, lastUsed: r.lastUsed, what: `${r.kind} ${r.id}` });
  }
  for (const b of blobs) {
    if (b.dir || charged.has(b.name)) continue;
    items.push({ kind: 'blob', name: b.name, bytes: b.size, lastUsed: b.mtimeMs });
  }
  for (const s of await entriesWithStat(join(dir, 'rootfs'))) {
    items.push({ kind: 'rootfs', name: s.name, bytes: s.size, lastUsed: s.mtimeMs });
  }
  // Every file, damaged ones and a crashed build's temp files included, so pruning can remove them.
  for (const p of await entriesWithStat(cache.pipPlanDir)) {
    if (p.dir) continue;
    const rec = await readFile(p.path, 'utf8')
      .then((t) => JSON.parse(t) as unknown)
      .catch(() => undefined);
    const what = isPipPlanRecord(rec) ? `pip ${rec.groups.length} layer(s)` : undefined;
    items.push({ kind: 'plan', name: p.name, bytes: p.size, lastUsed: p.mtimeMs, ...(what ? { what } : {}) });
  }
  items.sort((a, b) => a.lastUsed - b.lastUsed);
  const downloads: { name: string; bytes: number }[] = [];
  for (const e of await entriesWithStat(dir)) {
    if (!e.dir || ['index', 'blobs', 'rootfs', 'file-hashes', 'layers', 'pip-plans'].includes(e.name))
      continue;
    downloads.push({ name: e.name, bytes: await treeBytes(e.path) });
  }
  return { items, bytes: items.reduce((n, i) => n + i.bytes, 0), downloads };
}

export interface PruneOptions {
  /** Bytes the managed part of the cache may hold afterwards. */
  maxSize: number;
  /** Items used this recently are kept even over the limit: a concurrent build may be about to read them. */
  keepRecentMs?: number;
  now?: number;
}

export interface PruneResult {
  removed: CacheItem[];
  bytesBefore: number;
  bytesAfter: number;
}

/**
 * Least-recently-used pruning down to `maxSize`. A record goes before its blob (a reader that
 * finds the record without its blob treats it as a miss), and a blob goes only when no remaining
 * record points to it. Temp files older than a day (crashed builds) are always removed.
 */
export async function pruneCache(dir: string, opts: PruneOptions): Promise<PruneResult> {
  if (!Number.isFinite(opts.maxSize) || opts.maxSize < 0)
    throw new CogtsError('E_CACHE_PRUNE', `--max-size must be a byte count ≥ 0, got ${opts.maxSize}`);
  const now = opts.now ?? Date.now();
  const keepAfter = now - (opts.keepRecentMs ?? 60_000);
  const cache = new LayerCache(dir);
  for (const t of await entriesWithStat(join(cache.blobDir, 'sha256'))) {
    if (t.name.startsWith('.tmp-') && t.mtimeMs < now - DAY) await rm(t.path, { force: true });
  }
  const usage = await cacheUsage(dir);
  const records = await cache.records();
  const refs = new Map<string, number>();
  for (const r of records) if (!r.empty) refs.set(r.digest, (refs.get(r.digest) ?? 0) + 1);
  const byKey = new Map(records.map((r) => [r.key, r]));
  let total = usage.bytes;
  const removed: CacheItem[] = [];
  for (const item of usage.items) {
    // A limit of 0 empties the cache, zero-byte records (empty layers) included.
    if (total <= opts.maxSize && opts.maxSize > 0) break;
    if (item.lastUsed > keepAfter) continue;
    if (item.kind === 'layer') {
      const r = byKey.get(item.name);
      await cache.remove(item.name);
      if (r && !r.empty) {
        const left = (refs.get(r.digest) ?? 1) - 1;
        refs.set(r.digest, left);
        if (left === 0) await rm(cache.blobPath(r.digest), { force: true });
      }
    } else if (item.kind === 'blob') {
      await rm(join(cache.blobDir, 'sha256', item.name), { force: true });
    } else if (item.kind === 'plan') {
      await rm(join(cache.pipPlanDir, item.name), { force: true });
    } else {
      await rm(join(dir, 'rootfs', item.name), { force: true });
    }
    total -= item.bytes;
    removed.push(item);
  }
  return { removed, bytesBefore: usage.bytes, bytesAfter: total };
}

/** "10G", "500MiB", "1.5GB", "123" → bytes (binary multiples, like du -h). */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b)?\s*$/i.exec(text);
  if (!m)
    throw new CogtsError('E_SIZE', `"${text}" is not a size`, { hint: 'write e.g. 500M, 10G or 1073741824' });
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[(m[2] ?? '').toLowerCase()] ?? 1;
  return Math.floor(Number(m[1]) * mult);
}
