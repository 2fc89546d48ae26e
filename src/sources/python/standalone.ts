import {
  closeSync,
  createReadStream,
  existsSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  readSync,
} from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { extract } from 'tar';
import { CogtsError } from '../../errors.js';
import { bufferEntry, type LayerEntry } from '../../layer/entry.js';
import { sourceDateEpoch } from '../../layer/tar-stream.js';
import { fetchVerified } from '../../net/fetch-verified.js';
import { pycSource, restampPyc } from './pyc.js';
import { rewritePkgconfig, rewriteScript, rewriteSysconfigdata } from './relocate.js';
import { type StandaloneLookup, type StandaloneTable, standaloneAsset } from './standalone-table.js';
import type { PythonRuntime } from './types.js';

export const STANDALONE_PREFIX = '/opt/python';

export interface StandaloneOptions extends StandaloneLookup {
  /** Download + unpack cache (content-addressed by the archive's sha256). */
  cacheDir: string;
  /** Where `python`, `python3`, `python3.X`, `pip`, `pip3` links go; null: none, PATH gets /opt/python/bin. */
  linkDir?: string | null;
  /** Table override (tests, a user's own pins); default compat/python-standalone.json. */
  table?: StandaloneTable;
  /**
   * The mtime the layer writer stamps on every entry (default SOURCE_DATE_EPOCH or 0, as
   * src/layer/tar-stream does): shipped .pyc headers are restamped to it so they stay valid.
   */
  mtime?: number;
}

/**
 * Unpacks a verified archive once into `<cache>/unpacked/<sha256>` (via a temporary dir + rename, so a
 * crash never leaves a half tree that looks complete). node-tar refuses absolute paths and "..".
 */
async function unpackOnce(archive: string, sha256: string, cacheDir: string): Promise<string> {
  const dest = join(cacheDir, 'unpacked', sha256);
  if (existsSync(join(dest, 'python'))) return dest;
  const tmp = `${dest}.${process.pid}.${Date.now()}.tmp`;
  await mkdir(tmp, { recursive: true });
  try {
    await extract({ file: archive, cwd: tmp, strict: true, preserveOwner: false });
    await rm(dest, { recursive: true, force: true });
    await rename(tmp, dest);
  } catch (e) {
    throw new CogtsError(
      'E_PYTHON_ARCHIVE',
      `${archive}: cannot unpack the python-build-standalone archive: ${(e as Error).message}`,
      { cause: e },
    );
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return dest;
}

/** What to do with one regular file of the install tree: stream it as is, or rewrite it. */
function rewriterFor(rel: string, host: string, minor: string): ((text: string) => string) | undefined {
  const lib = `lib/python${minor}/`;
  if (rel.startsWith(lib) && /^_sysconfigdata_.*\.py$/.test(rel.slice(lib.length)))
    return (t) => rewriteSysconfigdata(t, STANDALONE_PREFIX);
  if (rel.startsWith(lib) && /^_sysconfig_vars_.*\.json$/.test(rel.slice(lib.length)))
    return (t) => rewriteScript(t, STANDALONE_PREFIX);
  if (/^lib\/pkgconfig\/[^/]+\.pc$/.test(rel)) return rewritePkgconfig;
  if (rel.startsWith(`${lib}config-${minor}`) && /\/(Makefile|python-config\.py)$/.test(rel))
    return (t) => rewriteScript(t, STANDALONE_PREFIX);
  if (rel.startsWith('bin/') && hasShebang(host)) return (t) => rewriteScript(t, STANDALONE_PREFIX);
  return undefined;
}

/** Looks at two bytes only: bin/ also holds the (large) interpreter binary. */
function hasShebang(host: string): boolean {
  const fd = openSync(host, 'r');
  try {
    const b = Buffer.alloc(2);
    return readSync(fd, b, 0, 2, 0) === 2 && b.toString('latin1') === '#!';
  } finally {
    closeSync(fd);
  }
}

function isText(buf: Buffer): boolean {
  return !buf.subarray(0, 8000).includes(0);
}

/** Layer entries for `<root>/python/**` placed under /opt/python, rewriting build paths on the way. */
function installEntries(
  root: string,
  minor: string,
  mtime: number,
): { entries: LayerEntry[]; rewritten: string[] } {
  const entries: LayerEntry[] = [];
  const rewritten: string[] = [];
  const walk = (rel: string) => {
    for (const name of readdirSync(join(root, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const host = join(root, r);
      const path = `${STANDALONE_PREFIX}/${r}`;
      const st = lstatSync(host);
      const mode = st.mode & 0o7777;
      if (st.isDirectory()) {
        entries.push({ type: 'dir', path, mode });
        walk(r);
      } else if (st.isSymbolicLink()) {
        entries.push({ type: 'symlink', path, target: readlinkSync(host) });
      } else if (st.isFile()) {
        const rewrite = rewriterFor(r, host, minor);
        const original = rewrite ? readFileSync(host) : undefined;
        if (rewrite && original && isText(original)) {
          const text = rewrite(original.toString('utf8'));
          if (text !== original.toString('utf8')) {
            rewritten.push(path);
            entries.push(bufferEntry(path, text, mode));
            continue;
          }
        }
        const source = pycSource(r);
        if (source && existsSync(join(root, source))) {
          entries.push({
            type: 'file',
            path,
            mode,
            size: st.size,
            open: () => createReadStream(host).pipe(restampPyc(mtime)),
          });
        } else entries.push({ type: 'file', path, mode, size: st.size, open: () => createReadStream(host) });
      }
    }
  };
  walk('');
  // A rewritten module's cached bytecode describes the old source: drop it so Python compiles the new one.
  const stale = new Set(
    rewritten
      .filter((p) => p.endsWith('.py'))
      .map((p) => p.replace(/^(.*)\/([^/]+)\.py$/, '$1/__pycache__/$2.')),
  );
  const kept = entries.filter(
    (e) => ![...stale].some((s) => e.path.startsWith(s) && e.path.endsWith('.pyc')),
  );
  return { entries: kept, rewritten };
}

/**
 * The `standalone` provider: a python-build-standalone install_only archive, downloaded (from the
 * compat URL or a mirror), sha256-verified, unpacked once into the cache and laid out under
 * /opt/python with its build paths rewritten, plus python/python3/pip links in `linkDir`.
 */
export async function standaloneProvider(o: StandaloneOptions): Promise<PythonRuntime> {
  const asset = standaloneAsset(o, o.table);
  const minor = asset.version.split('.').slice(0, 2).join('.');
  const archive = await fetchVerified(
    asset.url,
    { sha256: asset.sha256 },
    join(o.cacheDir, 'downloads', `${asset.sha256}.tar.gz`),
  );
  const root = join(await unpackOnce(archive, asset.sha256, o.cacheDir), 'python');
  const exe = `bin/python${minor}`;
  for (const need of [exe, `lib/python${minor}/os.py`]) {
    if (!existsSync(join(root, need))) {
      throw new CogtsError(
        'E_PYTHON_ARCHIVE',
        `${asset.filename} has no python/${need}: not a python-build-standalone install_only archive for ${minor}`,
      );
    }
  }
  const { entries } = installEntries(root, minor, o.mtime ?? sourceDateEpoch());
  const interpreter = `${STANDALONE_PREFIX}/${exe}`;
  const linkDir = o.linkDir === undefined ? '/usr/local/bin' : o.linkDir;
  if (linkDir) {
    const names = ['python', 'python3', `python${minor}`];
    for (const pip of ['pip', 'pip3']) if (existsSync(join(root, 'bin', pip))) names.push(pip);
    for (const n of names)
      entries.push({
        type: 'symlink',
        path: `${linkDir}/${n}`,
        target: n.startsWith('pip') ? `${STANDALONE_PREFIX}/bin/${n}` : interpreter,
      });
  }
  return {
    kind: 'standalone',
    interpreter,
    version: asset.version,
    minor,
    stdlib: `${STANDALONE_PREFIX}/lib/python${minor}`,
    sitePackages: `${STANDALONE_PREFIX}/lib/python${minor}/site-packages`,
    pathPrepend: linkDir ? [] : [`${STANDALONE_PREFIX}/bin`],
    entries,
    lock: {
      kind: 'standalone',
      version: asset.version,
      release: asset.release,
      triple: asset.triple,
      flavor: asset.flavor,
      url: asset.url,
      sha256: asset.sha256,
      prefix: STANDALONE_PREFIX,
    },
  };
}
