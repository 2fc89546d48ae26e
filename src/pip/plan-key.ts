/**
 * The pip layers' plan key: a name for "what the pip layers will hold" that is known right after
 * resolution, before any wheel is downloaded. The layer cache keys pip layers by their content
 * (LayerGroup.contentKey), which needs every wheel listed; a build that remembers plan key → groups
 * can look its layers up first and download nothing when they are all cached.
 */
import { createHash } from 'node:crypto';
import { compiledModulesPrint } from '../cache/keys.js';
import type { WheelLayout } from './install.js';

/** Packages at least this big unpacked get a layer of their own (torch, each nvidia-* library). */
export const DEFAULT_BIG_PACKAGE_BYTES = 100 * 1024 * 1024;

/** Bump when what a plan records, or how groups are formed, changes: old plans then simply miss. */
const PLAN_FORMAT = 'cogts-pip-plan-v1';

/** What the key needs of a resolved package. */
export interface PlanKeyPackage {
  name: string;
  version: string;
  filename: string;
  sha256?: string;
}

/**
 * sha256 over the compiled modules that turn wheels into groups. A plan made by other installer
 * code may no longer describe what this one installs (a stale plan fails the build), so a changed
 * installer, even within one version number, misses instead.
 */
export function installerFingerprint(): string {
  return compiledModulesPrint(
    ['index', 'install', 'record', 'scripts', 'names', 'zip'].map((n) => `../pip/${n}.js`),
  );
}

/**
 * Hex sha256 of every package's (name, version, filename, wheel sha256), the layout, the big-package
 * threshold, the plan format and the installer. Undefined when a wheel's sha256 is not known before
 * download (an index without hashes, a direct URL without #sha256=): its bytes could change under
 * the same name, so only its content can key its layer.
 */
export function pipPlanKey(
  packages: readonly PlanKeyPackage[],
  layout: WheelLayout,
  bigPackageBytes: number,
  installer: string = installerFingerprint(),
): string | undefined {
  if (packages.some((p) => !p.sha256 || !/^[0-9a-f]{64}$/i.test(p.sha256))) return undefined;
  // Sorted by file name (one file per package): the resolver's order is not part of the content.
  const pkgs = packages
    .map((p): [string, string, string, string] => [
      p.name,
      p.version,
      p.filename,
      (p.sha256 as string).toLowerCase(),
    ])
    .sort((a, b) => (a[2] < b[2] ? -1 : a[2] > b[2] ? 1 : 0));
  const doc = [
    PLAN_FORMAT,
    installer,
    bigPackageBytes,
    [layout.sitePackages, layout.interpreter, layout.binDir ?? null, layout.prefix ?? null],
    pkgs,
  ];
  return createHash('sha256').update(JSON.stringify(doc)).digest('hex');
}
