import { dpkgVersion, readIfKept } from './detect.js';
import type { Rootfs } from './types.js';

/** A CPython interpreter found in an image by its files (nothing is run). */
export interface PythonInstall {
  /** The interpreter as found on a bin dir ("/usr/bin/python3.11"). */
  path: string;
  /** Its canonical path after symlinks ("/opt/conda/bin/python3.11"). */
  realPath: string;
  /** "3.11.2" when a patch level is readable (patchlevel.h, dpkg), else "3.11". */
  version: string;
  /** Always "X.Y". */
  minor: string;
  /** sys.prefix: the parent of the interpreter's bin dir. */
  prefix: string;
  /** The standard library ("/usr/lib/python3.11"). */
  stdlib: string;
  /**
   * Where cogts installs packages so this interpreter imports them: Debian-patched Pythons use
   * /usr/local/lib/python3.X/dist-packages (what `pip install` as root uses there); others
   * PREFIX/lib/python3.X/site-packages.
   */
  sitePackages: string;
  layout: 'debian' | 'upstream';
}

/**
 * Bin dirs searched, in the order a typical image PATH lists them; /opt/<x>/bin covers conda,
 * python-build-standalone at /opt/python, and vendor prefixes.
 */
function binDirs(view: Rootfs): string[] {
  const dirs = ['/usr/local/bin', '/usr/bin', '/bin'];
  for (const name of view.list('/opt')) dirs.push(`/opt/${name}/bin`);
  return dirs;
}

function parent(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

function patchVersion(view: Rootfs, prefix: string, minor: string): string | undefined {
  const h = readIfKept(view, `${prefix}/include/python${minor}/patchlevel.h`)?.toString('utf8');
  const fromHeader = h && /#define\s+PY_VERSION\s+"(\d+\.\d+\.\d+)/.exec(h)?.[1];
  if (fromHeader) return fromHeader;
  if (prefix !== '/usr') return undefined;
  for (const pkg of [`python${minor}-minimal`, `libpython${minor}-minimal`, `python${minor}`]) {
    const v = dpkgVersion(view, pkg)?.version;
    const m = v && /^(?:\d+:)?(\d+\.\d+\.\d+)/.exec(v)?.[1];
    if (m) return m;
  }
  return undefined;
}

/** Debian and Ubuntu (and deadsnakes) patch site.py to use dist-packages instead of site-packages. */
function isDebianLayout(view: Rootfs, stdlib: string, prefix: string): boolean {
  const site = readIfKept(view, `${stdlib}/site.py`);
  if (site) return site.includes('dist-packages');
  return prefix === '/usr' && view.isDir('/usr/lib/python3/dist-packages');
}

function inspect(view: Rootfs, path: string, minor: string): PythonInstall | undefined {
  const realPath = view.realpath(path);
  if (!realPath || view.stat(realPath)?.type !== 'file') return undefined;
  const prefix = parent(parent(realPath));
  const stdlib = [`${prefix}/lib/python${minor}`, `${prefix}/lib64/python${minor}`].find((d) =>
    view.exists(`${d}/os.py`),
  );
  // Without os.py the interpreter cannot start (a stray binary, or a -minimal split we do not know).
  if (!stdlib) return undefined;
  const debian = isDebianLayout(view, stdlib, prefix);
  const sitePackages = debian
    ? `${prefix === '/usr' ? '/usr/local' : prefix}/lib/python${minor}/dist-packages`
    : `${prefix}/lib/python${minor}/site-packages`;
  return {
    path,
    realPath,
    version: patchVersion(view, prefix, minor) ?? minor,
    minor,
    prefix,
    stdlib,
    sitePackages,
    layout: debian ? 'debian' : 'upstream',
  };
}

/** Every CPython 3 interpreter in the image, one per canonical binary, in PATH-like order. */
export function listPythons(view: Rootfs): PythonInstall[] {
  const seen = new Set<string>();
  const out: PythonInstall[] = [];
  for (const dir of binDirs(view)) {
    for (const name of view.list(dir)) {
      const m = /^python(3\.\d+)$/.exec(name);
      if (!m) continue;
      const found = inspect(view, `${dir}/${name}`, m[1] as string);
      if (!found || seen.has(found.realPath)) continue;
      seen.add(found.realPath);
      out.push(found);
    }
  }
  return out;
}

/**
 * The image's interpreter for `requested` ("3.11" matches any 3.11.x; "3.11.4" needs that patch
 * level to be known and equal), or undefined when the image has none.
 */
export function findPython(view: Rootfs, requested: string): PythonInstall | undefined {
  const minor = /^(\d+\.\d+)/.exec(requested)?.[1];
  if (!minor) return undefined;
  const exact = requested !== minor;
  return listPythons(view).find((p) => p.minor === minor && (!exact || p.version === requested));
}
