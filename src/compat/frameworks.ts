import { CogtsError } from '../errors.js';
import type { Requirement } from './pins.js';
import type { TensorflowRelease, TorchRelease } from './tables.js';
import { compareVersions, exactVersion, matchesSpecifier } from './versions.js';

/**
 * Picks the framework release a requirement means, for a given Python: the newest release in the
 * table that satisfies the specifier and has wheels for that Python. Returns undefined when the
 * table knows no satisfying release at all (a release newer than compat/), so the caller can fall
 * back to what the user supplied; throws when releases exist but none fits the Python.
 */
export function pickRelease<R extends TorchRelease | TensorflowRelease>(
  framework: string,
  req: Requirement,
  releases: R[],
  pythonMinor: string,
): R | undefined {
  const satisfying = releases.filter((r) => matchesSpecifier(r.version, req.specifier));
  if (satisfying.length === 0) return undefined;
  const fitting = satisfying.filter((r) => r.pythons.includes(pythonMinor));
  if (fitting.length > 0) return fitting.sort((a, b) => compareVersions(a.version, b.version)).at(-1);
  const shown = req.specifier ? `${framework}${req.specifier}` : framework;
  const supported = [...new Set(satisfying.flatMap((r) => r.pythons))].sort(compareVersions);
  const firstWithPython = releases
    .filter((r) => r.pythons.includes(pythonMinor))
    .sort((a, b) => compareVersions(a.version, b.version))[0];
  const lastWithPython = releases
    .filter((r) => r.pythons.includes(pythonMinor))
    .sort((a, b) => compareVersions(a.version, b.version))
    .at(-1);
  const options = [`set build.python_version to "${supported.at(-1)}"`];
  if (firstWithPython && lastWithPython) {
    options.push(
      compareVersions(firstWithPython.version, satisfying[0]!.version) > 0
        ? `require ${framework}>=${firstWithPython.version} (the first release with Python ${pythonMinor} wheels)`
        : `require ${framework}<=${lastWithPython.version} (the last release with Python ${pythonMinor} wheels)`,
    );
  }
  throw new CogtsError(
    'E_COMPAT',
    `${shown} (${req.origin}) has no wheels for Python ${pythonMinor}: it supports Python ${supported.join(', ')}`,
    { hint: `${options.join(', or ')}` },
  );
}

/** "torch==2.1.0" → "2.1.0"; a range → its description; for messages. */
export function describeRequest(framework: string, req: Requirement): string {
  return req.specifier === '' ? `${framework} (unpinned)` : `${framework}${req.specifier}`;
}

/** The newest release in the table, for "newer than cogts knows" messages. */
export function newestKnown<R extends { version: string }>(releases: R[]): string | undefined {
  return releases
    .map((r) => r.version)
    .sort(compareVersions)
    .at(-1);
}

/** Whether an exact pin names a version beyond the table (so user-given indexes are trusted). */
export function isNewerThanTable(req: Requirement, releases: { version: string }[]): boolean {
  const exact = exactVersion(req.specifier);
  const newest = newestKnown(releases);
  return exact !== undefined && newest !== undefined && compareVersions(exact, newest) > 0;
}
