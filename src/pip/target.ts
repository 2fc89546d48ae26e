/**
 * The image's Python environment, described as data: the resolver never asks the host's Python.
 * From it come the PEP 508 marker values and the ordered list of PEP 425 wheel tags the image's
 * interpreter would accept (most specific first, like `packaging.tags.sys_tags()`).
 */
import { CogtsError } from '../errors.js';
import type { MarkerEnv } from './pep508.js';

export interface PythonTarget {
  /** "3.11" or "3.11.7". */
  pythonVersion: string;
  /** OCI platform of the image: "linux/amd64" (default) or "linux/arm64". */
  platform?: string;
  /** glibc of the base image, e.g. "2.35" (manylinux_2_N with N ≤ 35). Omit for musl. */
  glibc?: string;
  /** musl of the base image, e.g. "1.2" (musllinux_1_N). */
  musl?: string;
}

const MACHINES: Record<string, string> = {
  'linux/amd64': 'x86_64',
  'linux/arm64': 'aarch64',
  'linux/arm64/v8': 'aarch64',
};

export function targetMachine(t: PythonTarget): string {
  const p = t.platform ?? 'linux/amd64';
  const m = MACHINES[p];
  if (!m)
    throw new CogtsError('E_PIP_TARGET', `unsupported image platform "${p}" for Python wheels`, {
      hint: 'use linux/amd64 or linux/arm64',
    });
  return m;
}

function pyParts(t: PythonTarget): [number, number, string] {
  const m = /^(\d+)\.(\d+)(?:\.(\d+))?$/.exec(t.pythonVersion);
  if (!m)
    throw new CogtsError('E_PIP_TARGET', `invalid Python version "${t.pythonVersion}"`, {
      hint: 'write it as "3.11" or "3.11.7"',
    });
  return [Number(m[1]), Number(m[2]), m[3] ?? '0'];
}

export function markerEnv(t: PythonTarget): MarkerEnv {
  const [maj, min, patch] = pyParts(t);
  const full = `${maj}.${min}.${patch}`;
  return {
    os_name: 'posix',
    sys_platform: 'linux',
    platform_machine: targetMachine(t),
    platform_python_implementation: 'CPython',
    platform_release: '',
    platform_system: 'Linux',
    platform_version: '',
    python_version: `${maj}.${min}`,
    python_full_version: full,
    implementation_name: 'cpython',
    implementation_version: full,
    extra: '',
  };
}

/** The full Python version for requires-python checks ("3.11" → "3.11.0"). */
export function targetPythonFull(t: PythonTarget): string {
  const [maj, min, patch] = pyParts(t);
  return `${maj}.${min}.${patch}`;
}

/** Platform tags, most specific first. `linux_*` is never included: such wheels only fit the host that built them. */
export function platformTags(t: PythonTarget): string[] {
  const arch = targetMachine(t);
  const out: string[] = [];
  if (t.musl) {
    const mm = /^1\.(\d+)/.exec(t.musl);
    if (!mm) throw new CogtsError('E_PIP_TARGET', `invalid musl version "${t.musl}"`);
    for (let n = Number(mm[1]); n >= 0; n--) out.push(`musllinux_1_${n}_${arch}`);
    return out;
  }
  const gm = /^2\.(\d+)/.exec(t.glibc ?? '2.17');
  if (!gm)
    throw new CogtsError('E_PIP_TARGET', `invalid glibc version "${t.glibc}"`, { hint: 'e.g. "2.35"' });
  // Legacy aliases sit right after their PEP 600 equivalent (manylinux1 = 2_5, 2010 = 2_12, 2014 = 2_17).
  const legacy: Record<number, string> = { 17: 'manylinux2014', 12: 'manylinux2010', 5: 'manylinux1' };
  for (let n = Number(gm[1]); n >= 5; n--) {
    out.push(`manylinux_2_${n}_${arch}`);
    const l = legacy[n];
    if (l && (n !== 5 && n !== 12 ? true : arch === 'x86_64' || arch === 'i686')) out.push(`${l}_${arch}`);
  }
  return out;
}

/** Ordered supported tags ("cp311-cp311-manylinux_2_17_x86_64", …, "py3-none-any"). Index = preference. */
export function supportedTags(t: PythonTarget): string[] {
  const [maj, min] = pyParts(t);
  const plats = platformTags(t);
  const cp = `cp${maj}${min}`;
  const tags: string[] = [];
  for (const p of plats) tags.push(`${cp}-${cp}-${p}`);
  for (const p of plats) tags.push(`${cp}-abi3-${p}`);
  for (const p of plats) tags.push(`${cp}-none-${p}`);
  for (let m = min - 1; m >= 2; m--) for (const p of plats) tags.push(`cp${maj}${m}-abi3-${p}`);
  const pys = [`py${maj}${min}`, `py${maj}`];
  for (let m = min - 1; m >= 0; m--) pys.push(`py${maj}${m}`);
  for (const py of pys) for (const p of plats) tags.push(`${py}-none-${p}`);
  tags.push(`${cp}-none-any`);
  for (const py of pys) tags.push(`${py}-none-any`);
  return tags;
}

/** Lower is better; undefined = the wheel does not fit the target. */
export function makeTagRanker(t: PythonTarget): (wheelTags: string[]) => number | undefined {
  const rank = new Map(supportedTags(t).map((tag, i) => [tag, i]));
  return (wheelTags) => {
    let best: number | undefined;
    for (const tag of wheelTags) {
      const r = rank.get(tag);
      if (r !== undefined && (best === undefined || r < best)) best = r;
    }
    return best;
  };
}

export function describeTarget(t: PythonTarget): string {
  const libc = t.musl ? `musl ${t.musl}` : `glibc ${t.glibc ?? '2.17'}`;
  return `CPython ${t.pythonVersion} on ${t.platform ?? 'linux/amd64'} (${libc})`;
}
