import { CogtsError } from '../errors.js';
import { bytesBlob } from '../oci/image.js';
import { MediaType } from '../oci/media-types.js';
import { formatReference, parseReference, type Reference } from '../oci/reference.js';
import type { Blob, ImageManifest, Layer } from '../oci/types.js';
import { fetchBlob, headBlob, remoteBlob, uploadBlob } from '../registry/blobs.js';
import type { Registries } from '../registry/client.js';
import { getManifest, headManifest, putManifest } from '../registry/manifests.js';
import { mapLimit } from '../registry/retry.js';
import { isPipPlanRecord, type LayerRecord, type PipPlanRecord } from './store.js';

/** The artifact type (and config media type) of a cogts cache manifest. */
export const CACHE_ARTIFACT_TYPE = 'application/vnd.cogts.cache.v1+json';

/**
 * The config blob. `pipPlans` came later: still format 1, since a reader that ignores it only
 * downloads wheels it could have skipped (older cogts readers check `format` and `records` alone).
 */
interface CacheDocument {
  format: 1;
  records: LayerRecord[];
  pipPlans?: PipPlanRecord[];
}

async function readAll(s: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/**
 * A layer cache shared through a registry, for CI runners that start with an empty disk (BuildKit's
 * `type=registry` cache, without a server of our own). One OCI artifact manifest per cache ref: its
 * config blob is the key → layer descriptor map; its `layers` are those layer blobs, so the registry
 * keeps them alive (garbage collection follows manifests) and a push can mount them.
 */
export class RemoteCache {
  private constructor(
    private readonly registries: Registries,
    readonly ref: Reference,
    private readonly records: Map<string, LayerRecord>,
    private readonly plans: Map<string, PipPlanRecord> = new Map(),
  ) {}

  get size(): number {
    return this.records.size;
  }

  /** Reads the cache at `ref`; a ref that does not exist yet is an empty cache (the first CI run). */
  static async load(registries: Registries, refText: string): Promise<RemoteCache> {
    const ref = parseCacheRef(refText);
    const c = registries.client(ref.registry);
    const tag = ref.digest ?? ref.tag ?? 'cache';
    const records = new Map<string, LayerRecord>();
    if (!ref.digest && !(await headManifest(c, ref.repository, tag)))
      return new RemoteCache(registries, ref, records);
    const m = await getManifest(c, ref.repository, tag);
    const manifest = JSON.parse(m.bytes.toString('utf8')) as ImageManifest;
    if (manifest.config?.mediaType !== CACHE_ARTIFACT_TYPE) {
      throw new CogtsError(
        'E_CACHE_REF',
        `${formatReference(ref)} is not a cogts cache (its config is ${manifest.config?.mediaType ?? 'missing'})`,
        { hint: 'give --cache-from/--cache-to a reference of its own, e.g. REPO:buildcache' },
      );
    }
    const doc = JSON.parse(
      (await readAll(fetchBlob(c, ref.repository, manifest.config.digest, manifest.config.size))).toString(
        'utf8',
      ),
    ) as CacheDocument;
    if (doc.format !== 1 || !Array.isArray(doc.records))
      throw new CogtsError(
        'E_CACHE_REF',
        `${formatReference(ref)}: unknown cache document format ${doc.format}`,
      );
    for (const r of doc.records) records.set(r.key, r);
    // A malformed plan is skipped, not fatal: without it the pip layers are keyed after download.
    const plans = new Map<string, PipPlanRecord>();
    for (const p of Array.isArray(doc.pipPlans) ? doc.pipPlans : [])
      if (isPipPlanRecord(p)) plans.set(p.key, { key: p.key, groups: p.groups });
    return new RemoteCache(registries, ref, records, plans);
  }

  all(): LayerRecord[] {
    return [...this.records.values()];
  }

  allPipPlans(): PipPlanRecord[] {
    return [...this.plans.values()];
  }

  /** The pip layers a build recorded for this pip plan key (src/pip/plan-key.ts). */
  pipPlan(key: string): PipPlanRecord | undefined {
    return this.plans.get(key);
  }

  record(key: string): LayerRecord | undefined {
    return this.records.get(key);
  }

  /**
   * The layer for `key` when the map has it and its blob is still in the cache repository (HEAD):
   * a remote blob that a push to the same registry mounts, and that streams from there otherwise.
   */
  async lookup(key: string): Promise<Layer | undefined> {
    const rec = this.records.get(key);
    if (!rec) return undefined;
    const c = this.registries.client(this.ref.registry);
    const size = await headBlob(c, this.ref.repository, rec.digest);
    if (size === undefined || (size >= 0 && size !== rec.size)) return undefined;
    return { ...remoteBlob(c, this.ref.repository, rec), diffId: rec.diffId };
  }
}

function parseCacheRef(text: string): Reference {
  try {
    return parseReference(text);
  } catch (err) {
    throw new CogtsError('E_CACHE_REF', `cache reference "${text}" is not an image reference`, {
      hint: 'e.g. 127.0.0.1:5000/me/model:buildcache',
      cause: err,
    });
  }
}

/**
 * Writes the cache artifact at `refText`: `records` and `pipPlans` merged over what is there already
 * (newest wins), each layer blob made present in the cache repository first (HEAD, mount from where
 * it was pushed, or upload), the manifest last.
 */
export async function pushRemoteCache(
  registries: Registries,
  refText: string,
  layers: { record: LayerRecord; blob: Blob }[],
  previous?: RemoteCache,
  pipPlans: PipPlanRecord[] = [],
): Promise<{ digest: string; records: number; pipPlans: number }> {
  const ref = parseCacheRef(refText);
  const c = registries.client(ref.registry);
  const existing =
    previous && formatReference(previous.ref) === formatReference(ref)
      ? previous
      : await RemoteCache.load(registries, refText);
  const merged = new Map<string, LayerRecord>();
  for (const r of existing.all()) merged.set(r.key, r);
  await mapLimit(layers, 4, async ({ record, blob }) => {
    await uploadBlob(c, ref.repository, blob);
    merged.set(record.key, record);
  });
  const records = [...merged.values()].sort((a, b) => (a.key < b.key ? -1 : 1));
  const plans = new Map<string, PipPlanRecord>();
  for (const p of [...existing.allPipPlans(), ...pipPlans])
    plans.set(p.key, { key: p.key, groups: p.groups });
  const planList = [...plans.values()].sort((a, b) => (a.key < b.key ? -1 : 1));
  // Left out when empty: a cache without pip layers stays byte-identical to what older cogts wrote.
  const doc: CacheDocument = { format: 1, records, ...(planList.length ? { pipPlans: planList } : {}) };
  const config = bytesBlob(Buffer.from(JSON.stringify(doc)), CACHE_ARTIFACT_TYPE);
  await uploadBlob(c, ref.repository, config);
  const seen = new Set<string>();
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    artifactType: CACHE_ARTIFACT_TYPE,
    config: { mediaType: CACHE_ARTIFACT_TYPE, digest: config.digest, size: config.size },
    layers: records
      .filter((r) => !seen.has(r.digest) && seen.add(r.digest))
      .map((r) => ({ mediaType: r.mediaType, digest: r.digest, size: r.size })),
  };
  const digest = await putManifest(
    c,
    ref.repository,
    ref.tag ?? 'cache',
    Buffer.from(JSON.stringify(manifest)),
    MediaType.ociManifest,
  );
  return { digest, records: records.length, pipPlans: planList.length };
}
