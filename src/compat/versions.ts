import { compare, satisfies, valid } from '@renovatebot/pep440';

/**
 * Small version helpers over @renovatebot/pep440 (the project's PEP 440 library), for the dotted
 * versions in compat/ tables ("12.1", "2.1.0", "3.11") and requirement specifiers.
 */
export function compareVersions(a: string, b: string): number {
  if (valid(a) && valid(b)) return compare(a, b);
  return a.localeCompare(b, 'en', { numeric: true });
}

/** "12.1.1" and "12.1" (or "12.1.0") share major.minor. */
export function sameMinor(a: string, b: string): boolean {
  return majorMinor(a) === majorMinor(b);
}

export function majorMinor(v: string): string {
  return v.split('.').slice(0, 2).join('.');
}

export function major(v: string): string {
  return v.split('.')[0]!;
}

/**
 * Whether `version` satisfies a requirement specifier ("" matches everything). A local label in
 * the specifier (`==2.1.0+cu118`) is compared on the public part; callers read the label apart.
 */
export function matchesSpecifier(version: string, specifier: string): boolean {
  if (specifier === '') return true;
  const publicSpec = specifier.replace(/\+[A-Za-z0-9.]+/g, '');
  try {
    return satisfies(version, publicSpec);
  } catch {
    return false;
  }
}

/** The local version label of an `==X+label` pin ("cu118"), if any. */
export function localLabel(specifier: string): string | undefined {
  return /^===?[^,]*\+([A-Za-z0-9.]+)$/.exec(specifier)?.[1];
}

/** The exact version of an `==X` / `==X+label` pin, if the specifier is one. */
export function exactVersion(specifier: string): string | undefined {
  return /^===?([0-9][^,*+]*)(\+[A-Za-z0-9.]+)?$/.exec(specifier)?.[1];
}

/** "cu121" → "12.1"; "cu118" → "11.8"; "cu130" → "13.0"; "cpu" → null. */
export function cudaOfBuild(build: string): string | null | undefined {
  if (build === 'cpu') return null;
  const m = /^cu(\d+)(\d)$/.exec(build);
  return m ? `${m[1]}.${m[2]}` : undefined;
}

/** A wheel index whose last path segment names a torch build (…/whl/cu121, …/cpu/). */
export function buildOfIndexUrl(url: string): string | undefined {
  return /\/(cpu|cu\d{3,4})\/?$/.exec(url)?.[1];
}
