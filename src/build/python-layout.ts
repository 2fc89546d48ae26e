import type { WheelLayout } from '../pip/index.js';
import type { PythonRuntime } from '../sources/python/index.js';

/**
 * Where wheels go for an interpreter: its site directory, with scripts and `.data` under the same
 * prefix. For Debian's /usr/bin/python3.11 that is /usr/local/lib/python3.11/dist-packages and
 * /usr/local/bin (what `pip install` as root does there), never /usr, which dpkg owns.
 */
export function wheelLayout(runtime: PythonRuntime): WheelLayout {
  const m = /^(.*)\/lib\/python\d+\.\d+\/(?:site|dist)-packages$/.exec(runtime.sitePackages);
  if (!m) return { sitePackages: runtime.sitePackages, interpreter: runtime.interpreter };
  const prefix = m[1] || '/';
  return {
    sitePackages: runtime.sitePackages,
    interpreter: runtime.interpreter,
    prefix,
    binDir: `${prefix === '/' ? '' : prefix}/bin`,
  };
}
