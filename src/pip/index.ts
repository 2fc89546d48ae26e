/**
 * Public API of the Python-packages source: resolve requirements for the image's Python (without
 * running any Python), lock the result, and turn it into LayerEntry groups. See README.md.
 */
import { createHash } from 'node:crypto';
import { resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CogtsError } from '../errors.js';
import type { LayerEntry } from '../layer/entry.js';
import { Finder } from './finder.js';
import { HttpClient } from './http.js';
import { cachedPlan, entriesFromPlan, type InstalledWheel, type WheelLayout } from './install.js';
import { type CogtsLock, checkPipLock, type PipLock, pipInputsDigest } from './lockfile.js';
import { DEFAULT_BIG_PACKAGE_BYTES } from './plan-key.js';
import {
  emptyRequirementSet,
  parsePackageList,
  type RequirementSet,
  readRequirementsFile,
} from './requirements.js';
import { type ResolvedPackage, resolve } from './resolver.js';
import type { PythonTarget } from './target.js';

export { requirementsFromConfig } from './config-inputs.js';
export type { WheelLayout } from './install.js';
export type { CogtsLock, PipLock, PipLockPackage } from './lockfile.js';
export { checkPipLock, LOCK_FILE_NAME, pipInputsDigest, readLock, writeLockSection } from './lockfile.js';
export { DEFAULT_BIG_PACKAGE_BYTES, type PlanKeyPackage, pipPlanKey } from './plan-key.js';
export type { RequirementSet, SourcedRequirement } from './requirements.js';
export { emptyRequirementSet, parsePackageList, readRequirementsFile } from './requirements.js';
export type { ResolvedPackage } from './resolver.js';
export type { PythonTarget } from './target.js';
export { markerEnv, supportedTags } from './target.js';

export const PYPI_SIMPLE = 'https://pypi.org/simple/';

/** Index options from cog.yaml / CLI; they win over the requirements file, which wins over PIP_* env. */
export interface PythonIndexes {
  indexUrl?: string;
  extraIndexUrls?: string[];
  findLinks?: string[];
}

export type RequirementsInput =
  | { file: string }
  | { lines: string[]; source: string; baseDir: string }
  | { set: RequirementSet };

export interface ResolvePythonOptions {
  /** One or more inputs (requirements.txt and/or python_packages), merged in order. */
  requirements: RequirementsInput | RequirementsInput[];
  indexes?: PythonIndexes;
  target: PythonTarget;
  /** Cache root for index responses, metadata and wheels (e.g. ~/.cache/cogts/pip). */
  cacheDir: string;
  /** A previous lock: its versions are preferred (or, with `locked`, used as they are). */
  lock?: CogtsLock;
  /** `--locked`: never resolve; fail if the lock is missing or stale. */
  locked?: boolean;
  /** For messages about the lock (default "cogts.lock"). */
  lockPath?: string;
  /** Environment for PIP_INDEX_URL / PIP_EXTRA_INDEX_URL (default process.env). */
  env?: Record<string, string | undefined>;
}

export interface Resolution {
  target: PythonTarget;
  packages: ResolvedPackage[];
  indexUrls: string[];
  findLinks: string[];
  /** Fingerprint of the inputs (the lock's `inputs`). */
  inputs: string;
  /** Where the packages came from: freshly resolved or taken from the lock. */
  from: 'resolver' | 'lock';
  /** Counters (requests, cache hits, metadata sources) for benchmarks and progress output. */
  stats: Record<string, number>;
}

export async function loadRequirements(
  input: RequirementsInput | RequirementsInput[],
): Promise<RequirementSet> {
  const set = emptyRequirementSet();
  for (const i of Array.isArray(input) ? input : [input]) {
    if ('file' in i) await readRequirementsFile(i.file, set);
    else if ('lines' in i) await parsePackageList(i.lines, i.source, i.baseDir, set);
    else {
      const s = i.set;
      set.requirements.push(...s.requirements);
      set.constraints.push(...s.constraints);
      set.extraIndexUrls.push(...s.extraIndexUrls);
      set.findLinks.push(...s.findLinks);
      set.indexUrl = s.indexUrl ?? set.indexUrl;
      set.pre ||= s.pre;
      set.requireHashes ||= s.requireHashes;
      set.noIndex ||= s.noIndex;
    }
  }
  return set;
}

/** pip accepts plain paths for indexes and find-links; everything below speaks URLs. */
function asUrl(v: string): string {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v)) {
    try {
      new URL(v);
    } catch {
      throw new CogtsError('E_PIP_INDEX', `"${v}" is not a valid index or find-links URL`);
    }
    return v;
  }
  return pathToFileURL(resolvePath(v)).href;
}

function splitEnvList(v: string | undefined): string[] {
  return (v ?? '').split(/\s+/).filter(Boolean);
}

/** Effective index list: explicit options > requirements file > PIP_* env > PyPI. */
export function effectiveIndexes(
  set: RequirementSet,
  opt: PythonIndexes | undefined,
  env: Record<string, string | undefined>,
): { indexUrls: string[]; findLinks: string[] } {
  const primary = opt?.indexUrl || set.indexUrl || env.PIP_INDEX_URL || PYPI_SIMPLE;
  const extras = [
    ...(opt?.extraIndexUrls ?? []),
    ...set.extraIndexUrls,
    ...splitEnvList(env.PIP_EXTRA_INDEX_URL),
  ];
  const indexUrls = set.noIndex ? [] : [...new Set([primary, ...extras])];
  const findLinks = [
    ...new Set([...(opt?.findLinks ?? []), ...set.findLinks, ...splitEnvList(env.PIP_FIND_LINKS)].map(asUrl)),
  ];
  return { indexUrls: indexUrls.map(asUrl), findLinks };
}

export async function resolvePython(opts: ResolvePythonOptions): Promise<Resolution> {
  const set = await loadRequirements(opts.requirements);
  const http = new HttpClient({ cacheDir: opts.cacheDir });
  const idx = effectiveIndexes(set, opts.indexes, opts.env ?? process.env);
  const indexUrls = idx.indexUrls.map((u) => http.registerUrl(u));
  const findLinks = idx.findLinks.map((u) => http.registerUrl(u));
  const inputs = pipInputsDigest(set, opts.target, indexUrls, findLinks);
  if (opts.locked) {
    await http.close();
    const pip = checkPipLock(opts.lock, inputs, opts.lockPath);
    return resolutionFromLock(pip, 'lock');
  }
  const finder = new Finder({ http, indexUrls, findLinks, target: opts.target, cacheDir: opts.cacheDir });
  try {
    const preferred = new Map(
      (opts.lock?.pip?.packages ?? []).map((p) => [p.name.toLowerCase().replace(/[-_.]+/g, '-'), p.version]),
    );
    const packages = await resolve(
      finder,
      {
        requirements: set.requirements,
        constraints: set.constraints,
        pre: set.pre,
        requireHashes: set.requireHashes,
        preferred,
      },
      opts.target,
    );
    return {
      target: opts.target,
      packages,
      indexUrls,
      findLinks,
      inputs,
      from: 'resolver',
      stats: { ...http.stats, ...prefixKeys('metadata_', finder.metadataVia) },
    };
  } finally {
    await http.close();
  }
}

function prefixKeys(p: string, o: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [`${p}${k}`, v]));
}

export function resolutionFromLock(pip: PipLock, from: Resolution['from'] = 'lock'): Resolution {
  return {
    target: pip.target,
    indexUrls: pip.indexUrls,
    findLinks: pip.findLinks,
    inputs: pip.inputs,
    from,
    stats: {},
    packages: pip.packages.map((p) => ({
      key: p.name.toLowerCase().replace(/[-_.]+/g, '-'),
      name: p.name,
      version: p.version,
      filename: p.filename,
      url: p.url,
      sha256: p.sha256,
      allowedHashes: [p.sha256],
      extras: [],
      dependencies: p.dependencies,
    })),
  };
}

/** The pip section for cogts.lock; downloads (into the cache) any wheel whose index gave no sha256. */
export async function lockPython(resolution: Resolution, cacheDir: string): Promise<PipLock> {
  const finder = newFinder(resolution, cacheDir);
  try {
    const packages = await Promise.all(
      resolution.packages.map(async (p) => {
        const sha256 = p.sha256 ?? (await finder.ensureWheel(fileOf(p), p.allowedHashes)).sha256;
        return {
          name: p.name,
          version: p.version,
          filename: p.filename,
          url: p.url,
          sha256,
          dependencies: p.dependencies,
        };
      }),
    );
    return {
      inputs: resolution.inputs,
      target: resolution.target,
      indexUrls: resolution.indexUrls,
      findLinks: resolution.findLinks,
      packages,
    };
  } finally {
    await finder.opts.http.close();
  }
}

export interface InstallOptions extends WheelLayout {
  cacheDir: string;
  /** Packages at least this big unpacked get a group (layer) of their own. Default 100 MiB. */
  bigPackageBytes?: number;
  /** Wheels downloaded/verified at once (default 4). */
  concurrency?: number;
}

export interface LayerGroup {
  /** "python-packages" for the shared group, "python-<name>" for a big package's own. */
  name: string;
  packages: { name: string; version: string }[];
  /** Sorted by path; absolute image paths. */
  entries: LayerEntry[];
  /** Unpacked bytes. */
  size: number;
  /**
   * sha256 over every entry's path, mode and content digest (known without reading the wheels on a warm
   * cache): equal keys mean byte-identical layer contents, so the layer writer can key its cache on it.
   */
  contentKey: string;
}

function newFinder(r: Resolution, cacheDir: string): Finder {
  return new Finder({
    http: new HttpClient({ cacheDir }),
    indexUrls: r.indexUrls,
    findLinks: r.findLinks,
    target: r.target,
    cacheDir,
  });
}

function fileOf(p: ResolvedPackage) {
  const f = {
    filename: p.filename,
    url: p.url,
    yanked: false as const,
    metadata: false as const,
    source: p.url,
  };
  return p.sha256 ? { ...f, sha256: p.sha256 } : f;
}

/** Download (cache by sha256), verify and lay out every wheel; group entries into layers. */
export async function installWheels(resolution: Resolution, opts: InstallOptions): Promise<LayerGroup[]> {
  const finder = newFinder(resolution, opts.cacheDir);
  const installed: InstalledWheel[] = [];
  try {
    const queue = [...resolution.packages];
    const worker = async () => {
      for (let p = queue.shift(); p; p = queue.shift()) {
        const file = fileOf(p);
        const { path, sha256 } = await finder.ensureWheel(file, p.allowedHashes);
        // ensureWheel refuses a file that does not match a known hash (index, lock or --hash).
        const wheelHashChecked = Boolean(p.sha256 || p.allowedHashes?.length);
        const plan = await cachedPlan(path, sha256, p, opts, opts.cacheDir, { wheelHashChecked });
        installed.push(entriesFromPlan(plan, path, p.filename));
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, opts.concurrency ?? 4) }, worker));
  } finally {
    await finder.opts.http.close();
  }
  installed.sort((a, b) => (a.key < b.key ? -1 : 1));
  // Two packages writing one path: identical bytes are folded (namespace __init__ files), else an error.
  const owner = new Map<string, InstalledWheel>();
  for (const w of installed) {
    w.entries = w.entries.filter((e) => {
      const prev = owner.get(e.path);
      if (!prev) {
        owner.set(e.path, w);
        return true;
      }
      if (prev.digests.get(e.path) === w.digests.get(e.path)) return false;
      throw new CogtsError(
        'E_PIP_FILE_CLASH',
        `${prev.name} ${prev.version} and ${w.name} ${w.version} both install ${e.path} with different contents`,
        { hint: 'drop one of the two packages' },
      );
    });
  }
  const big = opts.bigPackageBytes ?? DEFAULT_BIG_PACKAGE_BYTES;
  const groups: LayerGroup[] = [];
  const rest: LayerGroup = { name: 'python-packages', packages: [], entries: [], size: 0, contentKey: '' };
  const digestOf = new Map<string, string>();
  for (const w of installed) for (const [p, d] of w.digests) if (!digestOf.has(p)) digestOf.set(p, d);
  for (const w of installed) {
    const g: LayerGroup =
      w.size >= big ? { name: `python-${w.key}`, packages: [], entries: [], size: 0, contentKey: '' } : rest;
    g.packages.push({ name: w.name, version: w.version });
    g.entries.push(...w.entries);
    g.size += w.size;
    if (g !== rest) groups.push(g);
  }
  rest.entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  if (rest.packages.length) groups.push(rest);
  for (const g of groups) {
    const h = createHash('sha256');
    for (const e of g.entries) h.update(`${e.path}\0${e.mode ?? ''}\0${digestOf.get(e.path) ?? ''}\n`);
    g.contentKey = `sha256:${h.digest('hex')}`;
  }
  return groups;
}
