/**
 * The pip layers of a build. All come from one resolution; packages of 100 MiB or more unpacked
 * (torch, each nvidia-* library) get a layer each, so every model on the same torch/CUDA shares
 * those blobs. A layer's cache key needs its content listed (LayerGroup.contentKey), which needs
 * every wheel; a pip plan (plan key → groups, src/pip/plan-key.ts) remembered from an earlier build
 * gives the keys right after resolution, so a build whose pip layers are all cached downloads none.
 */
import { join } from 'node:path';
import type { LayerCache, PipPlanGroup, PipPlanRecord } from '../cache/store.js';
import { CogtsError } from '../errors.js';
import { requirementsFromConfig } from '../pip/config-inputs.js';
import {
  type InstallOptions,
  installWheels,
  type LayerGroup,
  LOCK_FILE_NAME,
  pipPlanKey,
  type Resolution,
  readLock,
  resolvePython,
  type WheelLayout,
} from '../pip/index.js';
import type { PipLayerSpec } from '../plan/types.js';
import { detectLibc } from '../rootfs/index.js';
import type { BuildContext, LayerContent } from './contents.js';
import { wheelLayout } from './python-layout.js';

export async function pipLayers(spec: PipLayerSpec, ctx: BuildContext): Promise<LayerContent[]> {
  const { id, ownLayerBytes } = spec;
  const python = await ctx.python.promise;
  const cacheDir = join(ctx.cacheDir, 'pip');
  const resolution = await resolve(ctx, python.minor, cacheDir);
  ctx.log(
    `pip: ${resolution.packages.length} packages (${resolution.packages.map((x) => `${x.name}==${x.version}`).join(' ')})`,
  );
  const layout = wheelLayout(python);
  const install: InstallOptions = { ...layout, cacheDir, bigPackageBytes: ownLayerBytes };
  const key = pipPlanKey(resolution.packages, layout, ownLayerBytes);
  const local = ctx.layerCache;
  if (key) {
    const mine = await local?.lookupPipPlan(key);
    const plan = mine ?? ctx.remoteCache?.pipPlan(key);
    if (plan) {
      ctx.log(
        `pip: layers known from the ${mine ? 'local' : 'registry'} cache (no wheel downloaded unless a layer must be built)`,
      );
      ctx.pipPlans.push(plan);
      // One install for all of the plan's layers, started by the first that is not cached.
      let installed: Promise<LayerGroup[]> | undefined;
      return fromPlan(id, plan.groups, layout, () => {
        installed ??= installMatching(plan, resolution, install, ctx, local);
        return installed;
      });
    }
  }
  const groups = await installWheels(resolution, install);
  const planned = groups.map(planGroup);
  if (key) {
    const plan: PipPlanRecord = { key, groups: planned };
    // Only a speed-up for the next build: a cache folder that cannot be written is no error.
    await local?.storePipPlan(plan).catch(() => {});
    ctx.pipPlans.push(plan);
  }
  return fromPlan(id, planned, layout, async () => groups);
}

/** Resolution for the image's Python, preferring (with --locked: using) cogts.lock beside cog.yaml. */
async function resolve(ctx: BuildContext, pythonVersion: string, cacheDir: string): Promise<Resolution> {
  const view = await ctx.baseFs();
  const libc = detectLibc(view);
  const p = ctx.plan.python;
  const lockPath = join(ctx.plan.projectDir, LOCK_FILE_NAME);
  const lock = await readLock(lockPath);
  return resolvePython({
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
      pythonVersion,
      platform: `${ctx.plan.platform.os}/${ctx.plan.platform.architecture}`,
      ...(libc?.kind === 'glibc' && libc.version ? { glibc: libc.version } : {}),
      ...(libc?.kind === 'musl' && libc.version ? { musl: libc.version } : {}),
    },
    cacheDir,
  });
}

function planGroup(g: LayerGroup): PipPlanGroup {
  return {
    name: g.name,
    description: `pip: ${g.packages.map((x) => `${x.name}==${x.version}`).join(' ')}`,
    contentKey: g.contentKey,
  };
}

/** One LayerContent per planned group; `groups` is called only when a layer must be built. */
function fromPlan(
  id: string,
  planned: PipPlanGroup[],
  layout: WheelLayout,
  groups: () => Promise<LayerGroup[]>,
): LayerContent[] {
  return planned.map((g) => ({
    id: g.name === 'python-packages' ? id : `${id}:${g.name.replace(/^python-/, '')}`,
    kind: 'pip' as const,
    description: g.description,
    // Scripts' shebangs name the interpreter; the layout says where files land.
    inputs: { contentKey: g.contentKey, layout },
    entries: async () => {
      const found = (await groups()).find((x) => x.name === g.name);
      // installMatching compared the groups already: reaching this is a bug, said plainly.
      if (!found) throw new CogtsError('E_PIP_PLAN_STALE', `pip layer ${g.name} is missing after install`);
      return found.entries;
    },
  }));
}

/**
 * Installs the wheels for the layers of a cached plan that have to be built, and checks that they
 * make exactly the planned groups, in order: the layers were keyed by the plan's content keys, so
 * other content under those keys would poison the layer cache.
 */
async function installMatching(
  plan: PipPlanRecord,
  resolution: Resolution,
  install: InstallOptions,
  ctx: BuildContext,
  local: LayerCache | undefined,
): Promise<LayerGroup[]> {
  ctx.log('pip: a layer the plan names is not cached: downloading and installing the wheels');
  const groups = await installWheels(resolution, install);
  const got = groups.map(planGroup);
  const same =
    got.length === plan.groups.length &&
    got.every((g, i) => {
      const want = plan.groups[i];
      return want?.name === g.name && want.contentKey === g.contentKey && want.description === g.description;
    });
  if (!same) {
    // The local copy goes now; a registry copy is replaced by the next --cache-to without it.
    await local?.removePipPlan(plan.key).catch(() => {});
    const show = (l: PipPlanGroup[]) => l.map((g) => `${g.name} ${g.contentKey.slice(7, 19)}`).join(', ');
    throw new CogtsError(
      'E_PIP_PLAN_STALE',
      `the cached pip plan ${plan.key.slice(0, 12)} is stale: it names the layers [${show(plan.groups)}], the wheels install [${show(got)}]`,
      {
        hint: 'run the build again (the local plan was removed); if the plan came from --cache-from REF, build once without --cache-from, with --cache-to REF, to replace it there',
      },
    );
  }
  await local?.storePipPlan(plan).catch(() => {});
  return groups;
}
