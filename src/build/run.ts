import { parseSize, pruneCache } from '../cache/prune.js';
import { family } from '../oci/image.js';
import { parseReference } from '../oci/reference.js';
import type { BuildPlan } from '../plan/types.js';
import { type BuildSummary, bytesReporter, type Phase, type Progress } from '../progress/events.js';
import { createProgress, formatBytes, summaryLines } from '../progress/render.js';
import type { PythonProviderKind } from '../sources/python/index.js';
import { deliver } from './deliver.js';
import { executePlan, registriesFor } from './execute.js';

export interface RunBuildOptions {
  json: boolean;
  progress?: 'auto' | 'plain' | 'json';
  pythonProvider?: 'auto' | PythonProviderKind;
  pythonMirror?: string;
  npmRegistry?: string;
  /** `--cache-from REF`: a registry cache to take layers from. */
  cacheFrom?: string;
  /** `--cache-to REF`: record this build's layers there. */
  cacheTo?: string;
}

/** Default bound of the local layer cache (COGTS_CACHE_MAX_SIZE overrides; pruned after each build). */
export const DEFAULT_CACHE_MAX_SIZE = '20G';

/**
 * `cogts build` after planning: build, deliver, report. Progress goes to stderr so that stdout
 * carries only the result (the pushed reference, or JSON with --json) for scripts.
 */
export async function runBuild(plan: BuildPlan, opts: RunBuildOptions): Promise<void> {
  const t0 = Date.now();
  const progress = createProgress(opts.progress ?? 'auto');
  const log = (message: string) => progress.emit({ type: 'log', message });
  const phases: Partial<Record<Phase, number>> = {};
  const phase = async <T>(name: Phase, fn: () => Promise<T>): Promise<T> => {
    const s = Date.now();
    progress.emit({ type: 'phase', phase: name, status: 'start' });
    const r = await fn();
    phases[name] = (phases[name] ?? 0) + Date.now() - s;
    progress.emit({ type: 'phase', phase: name, status: 'done', ms: phases[name] });
    return r;
  };
  for (const note of plan.notes) log(`note: ${note}`);
  const registries = registriesFor(plan);
  try {
    const pythonMirror = opts.pythonMirror ?? process.env.COGTS_PYTHON_MIRROR;
    const npmRegistry = opts.npmRegistry ?? process.env.COGTS_NPM_REGISTRY;
    const cacheFrom = opts.cacheFrom;
    const remote = opts.cacheFrom || opts.cacheTo ? await import('../cache/remote.js') : undefined;
    const remoteCache =
      cacheFrom && remote ? await remote.RemoteCache.load(registries, cacheFrom) : undefined;
    if (remoteCache) log(`cache-from ${cacheFrom}: ${remoteCache.size} layer records`);
    const result = await phase('layers', () =>
      executePlan(plan, {
        log,
        progress,
        registries,
        ...(remoteCache ? { remoteCache } : {}),
        ...(plan.target.push ? { eagerPush: parseReference(plan.target.push) } : {}),
        ...(opts.pythonProvider && opts.pythonProvider !== 'auto'
          ? { pythonProvider: opts.pythonProvider }
          : {}),
        ...(pythonMirror ? { pythonMirror } : {}),
        ...(npmRegistry ? { npmRegistry } : {}),
      }),
    );
    if (family(result.image) !== family(result.base)) {
      log(
        `base ${plan.base.ref} is a Docker schema2 image, which cannot list ${plan.compression.algorithm} layers: the image is written with OCI media types (base layers unchanged)`,
      );
    }
    const layerOf = new Map(result.layers.map((l) => [l.layer.digest as string, l.id]));
    // Layers uploaded while they were built are "exists" to the push, but this build sent them.
    const eager = new Set(result.layers.filter((l) => l.uploaded).map((l) => l.layer.digest as string));
    const blobs = { uploaded: 0, mounted: 0, exists: 0 };
    const delivered = await phase(plan.target.push ? 'push' : 'output', () =>
      deliver(
        result.image,
        plan.target,
        registries,
        log,
        (e) => {
          blobs[e.result]++;
          const layer = layerOf.get(e.digest);
          progress.emit({
            type: 'blob',
            digest: e.digest,
            size: e.size,
            result: e.result,
            ...(layer ? { layer } : {}),
          });
        },
        eager,
        uploadProgress(progress, layerOf),
      ),
    );
    let cacheExport: { ref: string; digest: string; records: number } | undefined;
    const cacheTo = opts.cacheTo;
    if (cacheTo && remote) {
      const layers = result.layers.flatMap((l) => (l.record ? [{ record: l.record, blob: l.layer }] : []));
      const r = await phase('cache-export', () =>
        remote.pushRemoteCache(registries, cacheTo, layers, remoteCache, result.pipPlans),
      );
      cacheExport = { ref: cacheTo, ...r };
      log(`cache-to ${cacheTo}: ${r.records} layer records (${r.digest})`);
    }
    if (plan.cache.enabled) {
      // Bounded like cacache: least recently used layers go once the folder is over its size.
      const max = parseSize(process.env.COGTS_CACHE_MAX_SIZE ?? DEFAULT_CACHE_MAX_SIZE);
      await pruneCache(plan.cache.dir, { maxSize: max }).catch(() => {});
    }
    const count = (o: string) => [...result.layers, ...result.empty].filter((l) => l.outcome === o).length;
    const summary: BuildSummary = {
      layers: {
        built: count('built'),
        cached: count('cached'),
        remote: count('remote'),
        empty: count('empty'),
      },
      blobs,
      bytes: { uploaded: delivered.pushed?.bytesUploaded ?? 0, skipped: delivered.pushed?.bytesSkipped ?? 0 },
      phases,
      totalMs: Date.now() - t0,
    };
    if (opts.progress === 'json') progress.emit({ type: 'summary', summary });
    const out = {
      digest: result.image.digest,
      reference: delivered.pushed?.reference,
      output: delivered.output,
      base: { ref: plan.base.ref, digest: result.base.resolvedDigest },
      python: {
        kind: result.python.kind,
        interpreter: result.python.interpreter,
        version: result.python.version,
      },
      layers: result.layers.map((l) => ({
        id: l.id,
        digest: l.layer.digest,
        diffId: l.layer.diffId,
        size: l.layer.size,
        outcome: l.outcome,
        ...(l.key ? { key: l.key } : {}),
      })),
      upload: delivered.pushed
        ? { bytesUploaded: delivered.pushed.bytesUploaded, bytesSkipped: delivered.pushed.bytesSkipped }
        : undefined,
      cacheExport,
      summary,
    };
    progress.close();
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
      return;
    }
    if (opts.progress !== 'json') for (const line of summaryLines(summary)) process.stderr.write(`${line}\n`);
    if (delivered.pushed) {
      log(
        `pushed: ${formatBytes(delivered.pushed.bytesUploaded)} uploaded, ${formatBytes(delivered.pushed.bytesSkipped)} already there`,
      );
      process.stdout.write(`${delivered.pushed.reference}\n`);
    } else {
      if (!delivered.output)
        log('built but not sent anywhere: add --push REF or --output oci:DIR|docker-archive:FILE');
      process.stdout.write(`${result.image.digest}\n`);
    }
  } finally {
    progress.close();
    await registries.close();
  }
}

/** 'bytes' events for blobs the push sends (layers from the cache, base layers copied from another registry). */
function uploadProgress(
  progress: Progress,
  layerOf: ReadonlyMap<string, string>,
): (digest: string, sent: number, size: number) => void {
  const reporters = new Map<string, (bytes: number) => void>();
  return (digest, sent, size) => {
    let report = reporters.get(digest);
    if (!report) {
      report = bytesReporter(progress, layerOf.get(digest) ?? digest.slice(7, 19), 'upload', size);
      reporters.set(digest, report);
    }
    report(sent);
  };
}
