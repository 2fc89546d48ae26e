import { join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AptResolution } from '../apt/index.js';
import { type FileHashes, mapConcurrent } from '../cache/file-hash.js';
import { sha256Hex } from '../cache/keys.js';
import type { RemoteCache } from '../cache/remote.js';
import type { LayerCache, PipPlanRecord } from '../cache/store.js';
import type { Config } from '../config/types.js';
import { CogtsError } from '../errors.js';
import { bufferEntry, type LayerEntry } from '../layer/entry.js';
import type { RemoteImage } from '../oci/remote.js';
import type { BuildPlan, CodeLayerSpec, LayerSpec, PythonLayerSpec } from '../plan/types.js';
import type { Rootfs } from '../rootfs/index.js';
import { codeEntries } from '../sources/code.js';
import type { PythonChoice, PythonProviderKind, PythonRuntime } from '../sources/python/index.js';
import {
  cogPackageDir,
  fetchNodeBinary,
  nodePin,
  pythonFiles,
  runtimeEntries,
  runtimeFileMissing,
  serverBundlePath,
} from '../sources/runtime.js';

/** Everything a layer producer may need, computed once per build. */
export interface BuildContext {
  plan: BuildPlan;
  config: Config;
  log: (line: string) => void;
  pythonProvider?: PythonProviderKind;
  npmRegistry?: string;
  pythonMirror?: string;
  /** Download caches of the sources (apt, pip, node, python) live under it. */
  cacheDir: string;
  base: RemoteImage;
  baseFs: () => Promise<Rootfs>;
  fileHashes: FileHashes;
  /**
   * Settled by the python layer's source; pip layers wait for it. Layer sources run concurrently
   * (runtime and code need neither the base nor Python), so this is the one ordering between them.
   */
  python: Deferred<PythonRuntime>;
  /** The local layer cache (absent with --no-cache): pip plans are kept there too. */
  layerCache?: LayerCache;
  /** `--cache-from`: besides layers, it may know a resolution's pip layers before any download. */
  remoteCache?: RemoteCache;
  /** Pip plans this build made or used, for `--cache-to` (src/build/pip-layers.ts). */
  pipPlans: PipPlanRecord[];
  /** The predictor's OpenAPI schema (read statically), also written into the code layer as Cog does. */
  schema: Record<string, unknown>;
  /** The Python provider choice, made once: the apt and python layers both depend on it. */
  pythonChoice?: Promise<PythonChoice>;
  /**
   * With the apt provider and system packages, one apt resolution covers both (settled by the apt
   * layer): two layers each with its own dpkg status would hide each other's packages from dpkg.
   */
  aptWithPython: Deferred<AptResolution>;
}

export interface Deferred<T> {
  promise: Promise<T>;
  resolve(v: T): void;
  reject(e: unknown): void;
}

export function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((a, b) => {
    resolve = a;
    reject = b;
  });
  promise.catch(() => {}); // observed by whoever awaits it
  return { promise, resolve, reject };
}

/**
 * One layer to make. `inputs` is everything its bytes depend on besides how they are written
 * (the cache key's material), computed without producing the entries where that is possible, so a
 * cache hit skips the work `entries` would do (installing .debs, fetching Node).
 */
export interface LayerContent {
  id: string;
  kind: LayerSpec['kind'];
  description: string;
  inputs: unknown;
  entries: () => Promise<LayerEntry[]>;
}

/** Files this large go into a layer of their own under the code layer: editing code must not re-push weights. */
export const LARGE_FILE_BYTES = 32 << 20;

// The apt, pip and Python-provider modules (and what they pull in) load only when a plan needs
// them: module loading is a large part of a warm build's wall time.
const aptModule = () => import('../apt/index.js');
const pipModule = () => import('./pip-layers.js');
const pythonModule = () => import('../sources/python/index.js');

export async function layerContents(spec: LayerSpec, ctx: BuildContext): Promise<LayerContent[]> {
  const one = (inputs: unknown, entries: () => Promise<LayerEntry[]>): LayerContent[] => [
    { id: spec.id, kind: spec.kind, description: spec.description, inputs, entries },
  ];
  switch (spec.kind) {
    case 'apt': {
      const { formatReport, installApt, planApt } = await aptModule();
      const view = await ctx.baseFs();
      const cacheDir = join(ctx.cacheDir, 'apt');
      const { py, resolution } = await settleOnFailure(
        ctx.aptWithPython,
        (async () => {
          const py = await aptPythonRequest(ctx);
          const resolution = await planApt({
            base: view,
            packages: [...spec.packages, ...py],
            mirrors: ctx.plan.network.aptMirrors,
            cacheDir,
          });
          return { py, resolution };
        })(),
      );
      if (py.length > 0) ctx.aptWithPython.resolve(resolution);
      const status = view.readFile('/var/lib/dpkg/status');
      return one(
        {
          base: ctx.base.digest,
          dpkgStatus: status ? sha256Hex(status) : null,
          arch: resolution.arch,
          debs: resolution.packages.map((p) => [p.name, p.version, p.arch, p.sha256]),
        },
        async () => {
          const { entries, report } = await installApt(resolution, view, { cacheDir });
          for (const line of formatReport(report)) ctx.log(line);
          return entries;
        },
      );
    }
    case 'python': {
      const python = await settleOnFailure(ctx.python, pythonRuntime(spec, ctx));
      ctx.python.resolve(python);
      // A base or apt Python's extra entries are links into the base's tree: the base is an input.
      return one(
        { lock: python.lock, base: python.kind === 'standalone' ? null : ctx.base.digest },
        async () => python.entries,
      );
    }
    case 'run':
      throw new CogtsError(
        'E_BUILD_RUN',
        `${ctx.plan.configFile}: build.${spec.phase} has ${spec.commands.length} command(s), and a daemonless build has no process inside the image to run them in`,
        {
          hint: 'express them as build.system_packages / python_packages, or put their results in the project folder (it is copied to /src)',
        },
      );
    case 'pip':
      return (await pipModule()).pipLayers(spec, ctx);
    case 'runtime':
      return one(await runtimeInputs(ctx), async () => {
        const nodeBinary = await fetchNodeBinary({
          platform: platformOf(ctx.plan),
          cacheDir: ctx.cacheDir,
          ...(ctx.npmRegistry ? { npmRegistry: ctx.npmRegistry } : {}),
        });
        return runtimeEntries({ nodeBinary });
      });
    case 'code':
      return codeLayers(spec, ctx);
  }
}

function platformOf(plan: BuildPlan): string {
  return `${plan.platform.os}/${plan.platform.architecture}`;
}

/** The runtime layer's key material, known without downloading Node: the pin's integrity stands for it. */
async function runtimeInputs(ctx: BuildContext): Promise<unknown> {
  const pin = nodePin(platformOf(ctx.plan));
  const hash = (p: string) =>
    ctx.fileHashes.hash(p).catch((e: NodeJS.ErrnoException) => {
      throw runtimeFileMissing(p, e.code);
    });
  const cogDir = cogPackageDir();
  // The Node binary is stripped by cogts' own code on the way in: that code is an input too.
  const stripper = fileURLToPath(new URL('../sources/elf-strip.js', import.meta.url));
  return {
    cogts: ctx.plan.cogtsVersion,
    platform: platformOf(ctx.plan),
    node: { version: pin.version, package: pin.package, integrity: pin.integrity },
    strip: await hash(stripper).catch(() => null),
    server: await hash(serverBundlePath()),
    cog: await mapConcurrent(await pythonFiles(cogDir), 8, async (f) => [relative(cogDir, f), await hash(f)]),
  };
}

/**
 * The project as one or two layers: files of LARGE_FILE_BYTES or more (weights) below, the rest
 * above, so a one-line code change rebuilds and uploads only the small one. Keys are the sorted
 * (path, type, mode, size, sha256) lists; hashes come from the stat cache when files are unchanged.
 */
async function codeLayers(spec: CodeLayerSpec, ctx: BuildContext): Promise<LayerContent[]> {
  const entries = await codeEntries(spec.sourceDir, { dest: spec.target });
  // Cog also leaves the schema at <workdir>/.cog/openapi_schema.json; tools read it from there.
  const schemaPath = posix.join(spec.target, '.cog', 'openapi_schema.json');
  const hostPath = (p: string) => join(spec.sourceDir, posix.relative(spec.target, p));
  const big = new Set(
    entries.filter((e) => e.type === 'file' && e.size >= LARGE_FILE_BYTES).map((e) => e.path),
  );
  const isBig = (e: LayerEntry) => big.has(e.path) || (e.type === 'hardlink' && big.has(e.target));
  const describe = async (list: LayerEntry[]) =>
    mapConcurrent(list, 4, async (e) => {
      switch (e.type) {
        case 'file':
          return [
            e.path,
            'f',
            e.mode ?? (e.executable ? 0o755 : 0o644),
            e.size,
            e.path === schemaPath
              ? sha256Hex(JSON.stringify(ctx.schema))
              : await ctx.fileHashes.hash(hostPath(e.path)),
          ];
        case 'dir':
          return [e.path, 'd', e.mode ?? 0o755];
        case 'symlink':
          return [e.path, 'l', e.target];
        case 'hardlink':
          return [e.path, 'h', e.target];
      }
    });
  const small = [
    ...entries.filter((e) => !isBig(e) && e.path !== schemaPath),
    bufferEntry(schemaPath, JSON.stringify(ctx.schema)),
  ];
  const out: LayerContent[] = [];
  if (big.size > 0) {
    const weights = entries.filter(isBig);
    out.push({
      id: `${spec.id}:large-files`,
      kind: 'code',
      description: `model files of ${LARGE_FILE_BYTES >> 20} MiB or more in ${spec.target}`,
      inputs: { dest: spec.target, entries: await describe(weights) },
      entries: async () => weights,
    });
  }
  out.push({
    id: spec.id,
    kind: 'code',
    // Not the plan's description: it names the build machine's folder, and the history text is
    // part of the image config, so the same project built from two checkouts would differ.
    description: `model code in ${spec.target}`,
    inputs: { dest: spec.target, entries: await describe(small) },
    entries: async () => small,
  });
  return out;
}

/** Rejects `d` too when `p` fails (whoever waits on `d` must not wait forever); `p` as it was. */
function settleOnFailure<T>(d: Deferred<unknown>, p: Promise<T>): Promise<T> {
  return p.catch((e) => {
    d.reject(e);
    throw e;
  });
}

function pythonSpecOf(plan: BuildPlan): PythonLayerSpec {
  const spec = plan.layers.find((l): l is PythonLayerSpec => l.kind === 'python');
  if (!spec) throw new CogtsError('E_PLAN', 'the build plan has no python layer');
  return spec;
}

/** The Python provider for this build (base, standalone or apt), chosen once from the base's files. */
function pythonChoiceOf(ctx: BuildContext): Promise<PythonChoice> {
  ctx.pythonChoice ??= (async () => {
    const spec = pythonSpecOf(ctx.plan);
    const { choosePythonProvider } = await pythonModule();
    const override = ctx.pythonProvider ?? (spec.provider === 'auto' ? undefined : spec.provider);
    return choosePythonProvider(await ctx.baseFs(), spec.version, override);
  })();
  return ctx.pythonChoice;
}

/** The Python packages the apt layer adds when the apt provider is chosen (none otherwise). */
async function aptPythonRequest(ctx: BuildContext): Promise<string[]> {
  if ((await pythonChoiceOf(ctx)).kind !== 'apt') return [];
  return (await pythonModule()).aptPythonPackages(pythonSpecOf(ctx.plan).version);
}

async function pythonRuntime(spec: PythonLayerSpec, ctx: BuildContext): Promise<PythonRuntime> {
  const { aptPythonProvider, baseProvider, pythonFromApt, standaloneProvider } = await pythonModule();
  const view = await ctx.baseFs();
  const choice = await pythonChoiceOf(ctx);
  const merged = choice.kind === 'apt' && ctx.plan.layers.some((l) => l.kind === 'apt');
  ctx.log(
    `python ${spec.version}: ${choice.kind} (${choice.reason})${merged ? '; installed with the system packages' : ''}`,
  );
  if (merged) return pythonFromApt(spec.version, await ctx.aptWithPython.promise, undefined, view);
  switch (choice.kind) {
    case 'base':
      return baseProvider(view, spec.version);
    case 'standalone':
      return standaloneProvider({
        requested: spec.version,
        platform: platformOf(ctx.plan),
        cacheDir: join(ctx.cacheDir, 'python'),
        ...(ctx.pythonMirror ? { mirror: ctx.pythonMirror } : {}),
      });
    case 'apt': {
      const { runtime, report } = await aptPythonProvider({
        base: view,
        requested: spec.version,
        cacheDir: join(ctx.cacheDir, 'apt'),
        mirrors: ctx.plan.network.aptMirrors,
      });
      const { formatReport } = await aptModule();
      for (const line of formatReport(report)) ctx.log(line);
      return runtime;
    }
  }
}
