/**
 * python-build-standalone is built with prefix `/install` and with its own toolchain (`clang`,
 * `/tools/llvm/bin/llvm-ar`). The interpreter itself is relocatable, but text files keep those build
 * paths: `_sysconfigdata_*.py` (what sysconfig, pip and setuptools read to build extensions), the
 * pkg-config files and a few scripts. uv patches them after unpacking; these pure functions do the
 * same for a fixed install location. Facts from uv's `sysconfig` module, code our own.
 */

export const BUILD_PREFIX = '/install';

/**
 * Replaces `from` where it is a whole path prefix: at the start of a token (after whitespace, a
 * quote, `=`, `,`, `:`, the `#!` of a shebang, or a -I/-L flag) and followed by `/`, a quote, whitespace, `:` or the end.
 * "/install/lib" → "/opt/python/lib"; "/installer" and "/x/install" are left alone.
 */
export function replacePrefix(text: string, to: string, from = BUILD_PREFIX): string {
  const esc = from.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const re = new RegExp(`(^|[\\s'"=,:!]|-[IL])${esc}(?=[/'"\\s:,]|$)`, 'gm');
  return text.replace(re, (_m, lead: string) => `${lead}${to}`);
}

/** Build-machine tools a target machine does not have → their generic names (as uv does). */
const TOOL_SWAPS: Record<string, Array<[RegExp, string]>> = {
  CC: [[/^clang(?=\s|$)/, 'cc']],
  CPP: [[/^clang(?=\s|$)/, 'cc']],
  LINKCC: [[/^clang(?=\s|$)/, 'cc']],
  BLDSHARED: [[/^clang(?=\s|$)/, 'cc']],
  LDSHARED: [[/^clang(?=\s|$)/, 'cc']],
  CXX: [[/^clang\+\+(?=\s|$)/, 'c++']],
  LDCXXSHARED: [[/^clang\+\+(?=\s|$)/, 'c++']],
  AR: [[/^\/tools\/llvm\/bin\/llvm-ar(?=\s|$)/, 'ar']],
};

/**
 * Rewrites a `_sysconfigdata_*.py` module (a pprint-ed `build_time_vars = {...}` dict): build
 * prefix → `prefix` in every string, build toolchain → cc/c++/ar in the compiler variables, and
 * `PYTHON_BUILD_STANDALONE: 1` added, which uv and others use to recognise such an install.
 */
export function rewriteSysconfigdata(text: string, prefix: string): string {
  let out = replacePrefix(text, prefix);
  out = out.replace(/^(\s*'([A-Z_]+)':\s*')([^'\n]*)/gm, (m, lead: string, key: string, value: string) => {
    const swaps = TOOL_SWAPS[key];
    if (!swaps) return m;
    let v = value;
    for (const [re, to] of swaps) v = v.replace(re, to);
    return `${lead}${v}`;
  });
  if (!/'PYTHON_BUILD_STANDALONE'/.test(out))
    out = out.replace(/^build_time_vars = \{/m, "build_time_vars = {'PYTHON_BUILD_STANDALONE': 1,\n ");
  return out;
}

/** pkg-config files: `prefix=/install` → `prefix=${pcfiledir}/../..`, which stays right if moved. */
export function rewritePkgconfig(text: string): string {
  return text.replace(/^([A-Za-z_]+)=\/install$/gm, (_m, key: string) => `${key}=\${pcfiledir}/../..`);
}

/** Scripts and the config Makefile: plain prefix replacement (shebangs `#!/install/bin/python3`). */
export function rewriteScript(text: string, prefix: string): string {
  return replacePrefix(text, prefix);
}
