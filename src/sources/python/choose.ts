import { CogtsError } from '../../errors.js';
import { detectLibc } from '../../rootfs/detect.js';
import { findPython } from '../../rootfs/python.js';
import type { Rootfs } from '../../rootfs/types.js';
import type { PythonProviderKind, PythonRuntime } from './types.js';

export interface PythonChoice {
  kind: PythonProviderKind;
  /** One line for the plan output ("base image has /usr/bin/python3.11 (3.11.2)"). */
  reason: string;
}

/** python-build-standalone's glibc builds need glibc ≥ 2.17. */
const MIN_GLIBC: [number, number] = [2, 17];

function glibcTooOld(version: string | undefined): boolean {
  if (!version) return false;
  const [a = 0, b = 0] = version.split('.').map(Number);
  return a < MIN_GLIBC[0] || (a === MIN_GLIBC[0] && b < MIN_GLIBC[1]);
}

/**
 * Picks how the image gets its Python: `base` when the image already has the requested version,
 * else `standalone`; `apt` only when asked. An explicit override is honoured, or refused with a
 * reason when it cannot work (base without that Python, standalone on musl or glibc < 2.17).
 */
export function choosePythonProvider(
  view: Rootfs,
  requested: string,
  override?: PythonProviderKind,
): PythonChoice {
  const found = findPython(view, requested);
  const libc = detectLibc(view);
  const standaloneBlocker =
    libc?.kind === 'musl'
      ? `the base uses musl (${libc.path}); python-build-standalone's install_only builds need glibc`
      : libc?.kind === 'glibc' && glibcTooOld(libc.version)
        ? `the base has glibc ${libc.version}; python-build-standalone needs ≥ ${MIN_GLIBC.join('.')}`
        : undefined;
  if (override === 'base') {
    if (!found) {
      throw new CogtsError(
        'E_PYTHON_BASE',
        `python provider "base" was asked for, but the base image has no Python ${requested}`,
        {
          hint: 'use provider "standalone" or "apt", or a base image that ships this Python',
        },
      );
    }
    return { kind: 'base', reason: `asked for; base image has ${found.path} (${found.version})` };
  }
  if (override === 'apt')
    return {
      kind: 'apt',
      reason: `asked for: python${requested.split('.').slice(0, 2).join('.')} from the base's apt sources`,
    };
  if (override === 'standalone') {
    if (standaloneBlocker)
      throw new CogtsError(
        'E_PYTHON_STANDALONE',
        `python provider "standalone" cannot be used: ${standaloneBlocker}`,
        { hint: 'use provider "apt"' },
      );
    return { kind: 'standalone', reason: 'asked for' };
  }
  if (found) return { kind: 'base', reason: `base image has ${found.path} (${found.version})` };
  if (libc?.kind === 'musl') {
    throw new CogtsError(
      'E_PYTHON_NONE',
      `the base image has no Python ${requested} and ${standaloneBlocker}`,
      {
        hint: 'use a base image that ships this Python, or a glibc (Debian/Ubuntu) base',
      },
    );
  }
  if (standaloneBlocker)
    return { kind: 'apt', reason: `base image has no Python ${requested} and ${standaloneBlocker}` };
  return { kind: 'standalone', reason: `base image has no Python ${requested}` };
}

/** The `base` provider: nothing to add, only where the interpreter and its site-packages are. */
export function baseProvider(view: Rootfs, requested: string): PythonRuntime {
  const found = findPython(view, requested);
  if (!found)
    throw new CogtsError('E_PYTHON_BASE', `the base image has no Python ${requested}`, {
      hint: 'use provider "standalone" or "apt"',
    });
  return {
    kind: 'base',
    interpreter: found.path,
    version: found.version,
    minor: found.minor,
    stdlib: found.stdlib,
    sitePackages: found.sitePackages,
    pathPrepend: [],
    entries: [],
    lock: { kind: 'base', interpreter: found.path, version: found.version },
  };
}
