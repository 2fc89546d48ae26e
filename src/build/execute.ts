import { join } from 'node:path';
import { formatReport, installApt, planApt } from '../apt/index.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import { CogtsError } from '../errors.js';
import { buildLayer } from '../layer/build.js';
import type { LayerEntry } from '../layer/entry.js';
import { type Addition, appendLayers, type ConfigPatch, createdFromEnv, type Image } from '../oci/image.js';
import { parseReference } from '../oci/reference.js';
import { type RemoteImage, remoteImage } from '../oci/remote.js';
import type { Layer } from '../oci/types.js';
import { requirementsFromConfig } from '../pip/config-inputs.js';
import { installWheels, LOCK_FILE_NAME, readLock, resolvePython } from '../pip/index.js';
import type { BuildPlan, LayerSpec, PythonLayerSpec } from '../plan/types.js';
import { Registries } from '../registry/client.js';
import { defaultKeep, detectLibc, type Rootfs, rootfsFromLayers } from '../rootfs/index.js';
import { codeEntries } from '../sources/code.js';
import {
  aptPythonProvider,
  baseProvider,
  choosePythonProvider,
  type PythonProviderKind,
  type PythonRuntime,
  standaloneProvider,
} from '../sources/python/index.js';
import { fetchNodeBinary, runtimeEntries } from '../sources/runtime.js';
import { wheelLayout } from './python-layout.js';
import { openApiLabel } from './schema-label.js';

export interface ExecuteOptions {
  /** Lines for the user (progress, reports of what was not done). */
  log: (line: string) => void;
  /** Force a Python provider instead of the automatic choice. */
  pythonProvider?: PythonProviderKind;
  /** npm registry the Node runtime is fetched from (default: the public one). */
  npmRegistry?: string;
  /** python-build-standalone mirror (`<mirror>/<release>/<file>`). */
  pythonMirror?: string;
  registries?: Registries;
}

export interface BuiltLayer {
  id: string;
  kind: LayerSpec['kind'];
  description: string;
  layer: Layer;
}

export interface BuildResult {
  image: Image;
  base: RemoteImage;
  layers: BuiltLayer[];
  python: PythonRuntime;
  schema: Record<string, unknown>;
}

/** Everything a layer producer may need, computed once per build. */
interface BuildContext {
  plan: BuildPlan;
  config: Config;
  opts: ExecuteOptions;
  cacheDir: string;
  base: RemoteImage;
  baseFs: () => Promise<Rootfs>;
  python?: PythonRuntime;
}

/**
 * Executes a BuildPlan: pulls the base shallowly, produces each planned layer from its source,
 * writes them as deterministic blobs and assembles the image. Nothing is pushed here (see
 * `deliver`), so a failure in any layer leaves no trace in a registry.
 */
export async function executePlan(plan: BuildPlan, opts: ExecuteOptions): Promise<BuildResult> {
  const config = await loadConfig(plan.configFile);
  const registries = opts.registries ?? registriesFor(plan);
  // The schema is checked before anything is downloaded: an unsupported predictor signature is the
  // cheapest error to report.
  const schema = await openApiLabel(config);
  const platform = `${plan.platform.os}/${plan.platform.architecture}${plan.platform.variant ? `/${plan.platform.variant}` : ''}`;
  opts.log(`base ${plan.base.ref} (${plan.base.why})`);
  const base = await remoteImage(registries, parseReference(plan.base.ref), { platform });
  let fs: Promise<Rootfs> | undefined;
  const ctx: BuildContext = {
    plan,
    config,
    opts,
    cacheDir: plan.cache.dir,
    base,
    baseFs: () => {
      // Reading the base's files means streaming its layers once; only done when a layer needs it.
      fs ??= rootfsFromLayers(
        base.layers.map((l) => ({ id: l.digest, open: () => l.open() })),
        { keep: defaultKeep },
      );
      return fs;
    },
  };

  const built: BuiltLayer[] = [];
  for (const spec of plan.layers) {
    for (const { id, description, entries } of await layerContents(spec, ctx)) {
      if (entries.length === 0) {
        opts.log(`layer ${id}: nothing to add`);
        continue;
      }
      const layer = await buildLayer(entries, { blobDir: join(ctx.cacheDir, 'blobs') });
      opts.log(`layer ${id}: ${layer.digest} (${formatBytes(layer.size)})`);
      built.push({ id, kind: spec.kind, description, layer });
    }
  }
  const python = ctx.python;
  if (!python) throw new CogtsError('E_PLAN', 'the build plan has no python layer');

  const additions: Addition[] = built.map((b) => ({ layer: b.layer, createdBy: `cogts: ${b.description}` }));
  const image = appendLayers(base, additions, imagePatch(plan, base, python, schema));
  return { image, base, layers: built, python, schema };
}

export function registriesFor(plan: BuildPlan): Registries {
  return new Registries({
    mirrors: Object.fromEntries(plan.network.registryMirrors.map((m) => [m.host, m.url])),
    insecureRegistries: plan.network.insecureRegistries,
  });
}

interface LayerContent {
  id: string;
  description: string;
  entries: LayerEntry[];
}

async function layerContents(spec: LayerSpec, ctx: BuildContext): Promise<LayerContent[]> {
  const one = (entries: LayerEntry[]) => [{ id: spec.id, description: spec.description, entries }];
  switch (spec.kind) {
    case 'apt': {
      const view = await ctx.baseFs();
      const cacheDir = join(ctx.cacheDir, 'apt');
      const resolution = await planApt({
        base: view,
        packages: spec.packages,
        mirrors: ctx.plan.network.aptMirrors,
        cacheDir,
      });
      const { entries, report } = await installApt(resolution, view, { cacheDir });
      for (const line of formatReport(report)) ctx.opts.log(`apt: ${line}`);
      return one(entries);
    }
    case 'python': {
      ctx.python = await pythonRuntime(spec, ctx);
      return one(ctx.python.entries);
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
      return pipLayers(spec.id, ctx);
    case 'runtime': {
      const nodeBinary = await fetchNodeBinary({
        platform: `${ctx.plan.platform.os}/${ctx.plan.platform.architecture}`,
        cacheDir: ctx.cacheDir,
        ...(ctx.opts.npmRegistry ? { npmRegistry: ctx.opts.npmRegistry } : {}),
      });
      return one(await runtimeEntries({ nodeBinary }));
    }
    case 'code':
      return one(await codeEntries(spec.sourceDir, { dest: spec.target }));
  }
}

async function pythonRuntime(spec: PythonLayerSpec, ctx: BuildContext): Promise<PythonRuntime> {
  const view = await ctx.baseFs();
  const override = ctx.opts.pythonProvider ?? (spec.provider === 'auto' ? undefined : spec.provider);
  const choice = choosePythonProvider(view, spec.version, override);
  ctx.opts.log(`python ${spec.version}: ${choice.kind} (${choice.reason})`);
  switch (choice.kind) {
    case 'base':
      return baseProvider(view, spec.version);
    case 'standalone':
      return standaloneProvider({
        requested: spec.version,
        platform: `${ctx.plan.platform.os}/${ctx.plan.platform.architecture}`,
        cacheDir: join(ctx.cacheDir, 'python'),
        ...(ctx.opts.pythonMirror ? { mirror: ctx.opts.pythonMirror } : {}),
      });
    case 'apt': {
      const { runtime, report } = await aptPythonProvider({
        base: view,
        requested: spec.version,
        cacheDir: join(ctx.cacheDir, 'apt'),
        mirrors: ctx.plan.network.aptMirrors,
      });
      for (const line of formatReport(report)) ctx.opts.log(`apt: ${line}`);
      return runtime;
    }
  }
}

/**
 * All pip layers come from one resolution. Packages of 100 MB or more unpacked (torch, each
 * nvidia-* library) get a layer each, so every model on the same torch/CUDA shares those blobs.
 */
async function pipLayers(id: string, ctx: BuildContext): Promise<LayerContent[]> {
  const python = ctx.python;
  if (!python) throw new CogtsError('E_PLAN', 'the build plan puts pip packages before the Python layer');
  const view = await ctx.baseFs();
  const libc = detectLibc(view);
  const p = ctx.plan.python;
  const cacheDir = join(ctx.cacheDir, 'pip');
  // cogts.lock beside cog.yaml: its versions are preferred, and with --locked used as they are.
  const lockPath = join(ctx.plan.projectDir, LOCK_FILE_NAME);
  const lock = await readLock(lockPath);
  const resolution = await resolvePython({
    ...(lock ? { lock } : {}),
    locked: ctx.plan.network.locked,
    lockPath,
    requirements: requirementsFromConfig(ctx.config),
    indexes: {
      ...(p.indexUrl ? { indexUrl: p.indexUrl } : {}),
      extraIndexUrls: p.extraIndexUrls,
      findLinks: p.findLinks,
    },
    target: {
      pythonVersion: python.minor,
      platform: `${ctx.plan.platform.os}/${ctx.plan.platform.architecture}`,
      ...(libc?.kind === 'glibc' && libc.version ? { glibc: libc.version } : {}),
      ...(libc?.kind === 'musl' && libc.version ? { musl: libc.version } : {}),
    },
    cacheDir,
  });
  ctx.opts.log(
    `pip: ${resolution.packages.length} packages (${resolution.packages.map((x) => `${x.name}==${x.version}`).join(' ')})`,
  );
  const groups = await installWheels(resolution, { ...wheelLayout(python), cacheDir });
  return groups.map((g) => ({
    id: g.name === 'python-packages' ? id : `${id}:${g.name.replace(/^python-/, '')}`,
    description: `pip: ${g.packages.map((x) => `${x.name}==${x.version}`).join(' ')}`,
    entries: g.entries,
  }));
}

function imagePatch(
  plan: BuildPlan,
  base: RemoteImage,
  python: PythonRuntime,
  schema: Record<string, unknown>,
): ConfigPatch {
  const env: Record<string, string> = {};
  for (const e of plan.image.env) env[e.name] = e.value;
  // The server starts the runner with this interpreter, wherever the provider put it.
  env.COGTS_PYTHON = python.interpreter;
  if (python.pathPrepend.length > 0) {
    const basePath = (base.config.config?.Env ?? []).find((e) => e.startsWith('PATH='))?.slice(5);
    env.PATH = [
      ...python.pathPrepend,
      basePath ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    ].join(':');
  }
  const created = createdFromEnv();
  return {
    env,
    workingDir: plan.image.workingDir,
    exposedPorts: plan.image.exposedPorts,
    entrypoint: plan.image.entrypoint,
    cmd: plan.image.cmd,
    created,
    labels: {
      ...plan.image.labels,
      'run.cog.openapi_schema': JSON.stringify(schema),
      'org.opencontainers.image.created': created,
      'org.opencontainers.image.base.name': plan.base.ref,
      'org.opencontainers.image.base.digest': base.resolvedDigest,
    },
  };
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}
