import { type AptResolution, installApt, planApt } from '../../apt/index.js';
import { CogtsError } from '../../errors.js';
import type { LayerEntry } from '../../layer/entry.js';
import { findPython } from '../../rootfs/python.js';
import type { Rootfs } from '../../rootfs/types.js';
import type { PythonRuntime } from './types.js';

function minorOf(requested: string): string {
  const m = /^(\d+\.\d+)(?:\.\d+)?$/.exec(requested.trim());
  if (!m) throw new CogtsError('E_PYTHON_VERSION', `python_version "${requested}" is not X.Y or X.Y.Z`);
  return m[1] as string;
}

/**
 * Debian/Ubuntu package names for a Python minor version: the interpreter with its stdlib
 * (`python3.X` pulls python3.X-minimal, libpython3.X-stdlib: ssl, sqlite3, ctypes) and the shared
 * libpython that embedding tools and some wheels link against. Merge them into the apt request.
 */
export function aptPythonPackages(requested: string): string[] {
  const minor = minorOf(requested);
  return [`python${minor}`, `libpython${minor}`];
}

function upstreamVersion(debVersion: string): string {
  return /^(?:\d+:)?(\d+\.\d+\.\d+)/.exec(debVersion)?.[1] ?? debVersion;
}

/**
 * Turns an apt resolution (with the entries installApt produced for it, wherever they are layered)
 * into the Python runtime description. Adds only `python`/`python3` links in /usr/local/bin when
 * neither the packages nor the base provide /usr/bin/python3 (e.g. python3.12 from a PPA).
 */
export function pythonFromApt(
  requested: string,
  res: AptResolution,
  /**
   * What installApt laid down for `res`; undefined when that happens in another layer (the apt
   * layer, maybe from the cache): then Debian's python3.X-minimal in the resolution vouches for
   * /usr/bin/python3.X.
   */
  aptEntries: readonly LayerEntry[] | undefined,
  base: Rootfs,
): PythonRuntime {
  const minor = minorOf(requested);
  const interpreter = `/usr/bin/python${minor}`;
  const has = (name: string) => res.packages.some((p) => p.name === name);
  const paths = new Set(
    aptEntries?.map((e) => e.path) ?? [
      ...(has(`python${minor}-minimal`) ? [interpreter] : []),
      ...(has('python3-minimal') ? ['/usr/bin/python3'] : []),
    ],
  );
  const inBase = findPython(base, minor);
  if (!paths.has(interpreter) && inBase?.path !== interpreter) {
    throw new CogtsError(
      'E_PYTHON_APT',
      `the apt packages ${aptPythonPackages(requested).join(', ')} did not install ${interpreter}`,
      {
        hint: 'the archive may not carry this Python version; use python provider "standalone" or add a PPA that has it',
      },
    );
  }
  const pin =
    res.packages.find((p) => p.name === `python${minor}-minimal`) ??
    res.packages.find((p) => p.name === `python${minor}`);
  const version = pin ? upstreamVersion(pin.version) : (inBase?.version ?? minor);
  const entries: LayerEntry[] = [];
  if (!paths.has('/usr/bin/python3') && !base.exists('/usr/bin/python3')) {
    for (const n of ['python3', 'python'])
      entries.push({ type: 'symlink', path: `/usr/local/bin/${n}`, target: interpreter });
  }
  return {
    kind: 'apt',
    interpreter,
    version,
    minor,
    stdlib: `/usr/lib/python${minor}`,
    // Debian's site.py puts /usr/local/lib/python3.X/dist-packages on sys.path (pip's target as root).
    sitePackages: `/usr/local/lib/python${minor}/dist-packages`,
    pathPrepend: [],
    entries,
    lock: {
      kind: 'apt',
      version,
      packages: res.packages.map((p) => ({
        name: p.name,
        version: p.version,
        arch: p.arch,
        sha256: p.sha256,
        url: p.url,
      })),
    },
  };
}

export interface AptPythonOptions {
  base: Rootfs;
  requested: string;
  cacheDir: string;
  mirrors?: string[];
}

/**
 * The `apt` provider on its own: resolves and lays down the distribution's python3.X through
 * src/apt. Returns the runtime (its `entries` = the .deb files, dpkg database and links, for one
 * layer) and the apt report (skipped maintainer scripts) for the build output.
 */
export async function aptPythonProvider(
  o: AptPythonOptions,
): Promise<{ runtime: PythonRuntime; report: Awaited<ReturnType<typeof installApt>>['report'] }> {
  const res = await planApt({
    base: o.base,
    packages: aptPythonPackages(o.requested),
    cacheDir: o.cacheDir,
    mirrors: o.mirrors,
  });
  const { entries, report } = await installApt(res, o.base, { cacheDir: o.cacheDir });
  const runtime = pythonFromApt(o.requested, res, entries, o.base);
  return { runtime: { ...runtime, entries: [...entries, ...runtime.entries] }, report };
}
