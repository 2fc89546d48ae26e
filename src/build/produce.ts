import { layerKey, type WriteSettings, writerFingerprint } from '../cache/keys.js';
import type { RemoteCache } from '../cache/remote.js';
import { type LayerCache, type LayerRecord, layerFromRecord } from '../cache/store.js';
import { buildLayer } from '../layer/build.js';
import {
  type Compression,
  type CompressionChoice,
  compressionFor,
  compressionKey,
  compressionMediaType,
  DEFAULT_COMPRESSION,
} from '../layer/compression.js';
import type { LayerEntry } from '../layer/entry.js';
import { sourceDateEpoch } from '../layer/tar-stream.js';
import { buildLayerUploading } from '../oci/eager-upload.js';
import type { Reference } from '../oci/reference.js';
import type { Layer } from '../oci/types.js';
import { bytesReporter, type LayerOutcome, type Progress } from '../progress/events.js';
import type { Registries } from '../registry/client.js';
import { tapStream } from '../stream-tap.js';
import type { LayerContent } from './contents.js';

export interface ProduceEnv {
  /** Local cache; absent with --no-cache. */
  local?: LayerCache;
  remote?: RemoteCache;
  /** Where blobs go when there is no local cache. */
  blobDir: string;
  progress: Progress;
  /** With `--push`: upload each built layer while it is compressed (the push then finds it there). */
  eager?: { registries: Registries; target: Reference };
  /** Settles when layers may be built (cache hits never wait): the base read goes first. */
  buildAfter?: Promise<void>;
  /** `--compression` / `--compression-level` as the plan records them; default gzip. */
  compression?: CompressionChoice;
}

export interface Produced {
  id: string;
  kind: string;
  description: string;
  outcome: LayerOutcome;
  /** Absent for an empty layer. */
  layer?: Layer;
  key?: string;
  /** What the registry cache would record for this layer. */
  record?: LayerRecord;
  /** Uploaded to the push target while it was built. */
  uploaded?: boolean;
  ms: number;
}

/** How cogts writes layers with these settings: part of every key (gzip and zstd never share one). */
export function writeSettings(compression: Compression = DEFAULT_COMPRESSION): WriteSettings {
  return {
    compression: compressionKey(compression),
    mtime: sourceDateEpoch(),
    mediaType: compressionMediaType(compression),
    writer: writerFingerprint(),
  };
}

/** The same entries, with file reads counted (the tar writer's progress, without touching it). */
function counted(entries: LayerEntry[], onBytes: (total: number) => void): LayerEntry[] {
  let total = 0;
  const count = (chunk: Buffer) => {
    total += chunk.length;
    onBytes(total);
  };
  return entries.map((e) =>
    e.type !== 'file' ? e : { ...e, open: async () => (await e.open()).pipe(tapStream(count)) },
  );
}

/**
 * One layer: from the local cache (no tar, no compression), else from the registry cache (a remote
 * blob a push can mount), else built and recorded. A layer without inputs (none known) is always built.
 */
export async function produceLayer(content: LayerContent, env: ProduceEnv): Promise<Produced> {
  const t0 = Date.now();
  const base = { id: content.id, kind: content.kind, description: content.description };
  env.progress.emit({ type: 'layer', id: content.id, kind: content.kind, status: 'start' });
  const done = (p: Omit<Produced, 'ms' | 'id' | 'kind' | 'description'>): Produced => {
    const out = { ...base, ...p, ms: Date.now() - t0 };
    env.progress.emit({
      type: 'layer',
      id: out.id,
      kind: out.kind,
      status: out.outcome,
      ...(out.layer ? { digest: out.layer.digest, size: out.layer.size } : {}),
      ms: out.ms,
    });
    return out;
  };
  const compression = env.compression ? compressionFor(env.compression) : DEFAULT_COMPRESSION;
  const key =
    (env.local || env.remote) && content.inputs !== undefined
      ? layerKey(content.kind, content.inputs, writeSettings(compression))
      : undefined;
  if (key && env.local) {
    const rec = await env.local.lookup(key);
    if (rec?.empty) return done({ outcome: 'empty', key });
    if (rec) return done({ outcome: 'cached', key, layer: layerFromRecord(env.local, rec), record: rec });
  }
  if (key && env.remote) {
    const layer = await env.remote.lookup(key);
    const rec = env.remote.record(key);
    if (layer && rec) return done({ outcome: 'remote', key, layer, record: rec });
  }
  await env.buildAfter;
  const entries = await content.entries();
  if (entries.length === 0) {
    if (key && env.local) await env.local.store({ key, kind: content.kind, id: content.id, empty: true });
    return done({ outcome: 'empty', ...(key ? { key } : {}) });
  }
  const total = entries.reduce((n, e) => n + (e.type === 'file' ? e.size : 0), 0);
  const input = counted(entries, bytesReporter(env.progress, content.id, 'build', total));
  const blobDir = env.local?.blobDir ?? env.blobDir;
  let layer: Layer;
  let uploaded = false;
  if (env.eager) {
    const l = await buildLayerUploading(env.eager.registries, env.eager.target, input, {
      blobDir,
      compression,
    });
    uploaded = l.uploaded;
    layer = l;
  } else {
    layer = await buildLayer(input, { blobDir, compression });
  }
  if (!key) return done({ outcome: 'built', layer, uploaded });
  const record: LayerRecord = {
    key,
    kind: content.kind,
    id: content.id,
    diffId: layer.diffId,
    digest: layer.digest,
    size: layer.size,
    mediaType: layer.mediaType,
  };
  if (env.local) await env.local.store(record);
  return done({ outcome: 'built', key, layer, record, uploaded });
}
