import { CogtsError } from '../errors.js';

/** PEP 503 normalised project name: the key every index, lock and resolver map uses. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** A parsed wheel file name (PEP 427 + PEP 425 compressed tag sets). */
export interface WheelName {
  filename: string;
  /** Normalised project name. */
  name: string;
  version: string;
  build?: string;
  /** Every `python-abi-platform` triple the compressed tag set expands to. */
  tags: string[];
}

/** Parse `name-ver(-build)?-py-abi-plat.whl`; returns undefined for anything else (sdists, junk). */
export function parseWheelName(filename: string): WheelName | undefined {
  if (!filename.endsWith('.whl')) return undefined;
  const parts = filename.slice(0, -4).split('-');
  if (parts.length !== 5 && parts.length !== 6) return undefined;
  const [name, version] = parts as [string, string];
  const build = parts.length === 6 ? parts[2] : undefined;
  const [py, abi, plat] = parts.slice(-3) as [string, string, string];
  const tags: string[] = [];
  for (const p of py.split('.'))
    for (const a of abi.split('.')) for (const l of plat.split('.')) tags.push(`${p}-${a}-${l}`);
  return { filename, name: normalizeName(name), version, build, tags };
}

/** `name-1.0.tar.gz` / `.zip`: recognised so that "sdist only" errors can say what was found. */
export function isSdistName(filename: string): boolean {
  return /\.(tar\.gz|zip|tar\.bz2|tgz|tar)$/.test(filename);
}

/** Dist-info folder names are escaped with `_` for runs of `-_.` (binary distribution format spec). */
export function distInfoStem(name: string, version: string): string {
  return `${name.replace(/[-_.]+/g, '_')}-${version}`;
}

export function assertValidName(name: string, where: string): void {
  if (!/^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$/i.test(name)) {
    throw new CogtsError('E_PIP_REQUIREMENT', `${where}: invalid project name "${name}"`);
  }
}
