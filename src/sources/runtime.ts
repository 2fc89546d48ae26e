import { createReadStream, readFileSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { extract } from 'tar';
import { CogtsError } from '../errors.js';
import type { LayerEntry } from '../layer/entry.js';
import { fetchVerified } from '../net/fetch-verified.js';
import { stripElf } from './elf-strip.js';

/**
 * The cogts runtime layer: a Node binary for the image's platform, the prediction server bundled into
 * one file, and the Python `cog` shim, all under /opt/cogts. Its content depends only on the cogts
 * version and the platform, so every model built by one cogts shares this blob in the registry.
 */
export const RUNTIME_ROOT = '/opt/cogts';
export const RUNTIME_NODE = `${RUNTIME_ROOT}/bin/node`;
export const RUNTIME_SERVER = `${RUNTIME_ROOT}/server.mjs`;
/** Goes on PYTHONPATH in the image so `import cog` finds the shim. */
export const RUNTIME_PYTHONPATH = `${RUNTIME_ROOT}/python`;

export const DEFAULT_NPM_REGISTRY = 'https://registry.npmjs.org/';

interface NodePin {
  package: string;
  tarball: string;
  integrity: string;
}

interface NodeRuntimeTable {
  version: string;
  platforms: Record<string, NodePin>;
}

const packageRoot = fileURLToPath(new URL('../../../', import.meta.url));

function nodeTable(): NodeRuntimeTable {
  return JSON.parse(
    readFileSync(join(packageRoot, 'compat', 'node-runtime.json'), 'utf8'),
  ) as NodeRuntimeTable;
}

export function nodePin(platform: string): NodePin & { version: string } {
  const table = nodeTable();
  const pin = table.platforms[platform];
  if (!pin) {
    throw new CogtsError('E_PLATFORM', `no Node runtime pinned for platform ${platform}`, {
      hint: `supported: ${Object.keys(table.platforms).join(', ')} (compat/node-runtime.json)`,
    });
  }
  return { ...pin, version: table.version };
}

/**
 * Downloads (once; integrity-checked against compat/node-runtime.json) and unpacks the Node binary for
 * `platform` into the cache; returns the binary's path on this machine.
 */
export async function fetchNodeBinary(opts: {
  platform: string;
  cacheDir: string;
  npmRegistry?: string;
}): Promise<string> {
  const pin = nodePin(opts.platform);
  // "-stripped": the cached binary is the npm one minus symbols and DWARF (elf-strip.ts).
  const dir = join(opts.cacheDir, 'node', `${pin.package}-${pin.version}-stripped`);
  const binary = join(dir, 'node');
  if (await stat(binary).catch(() => undefined)) return binary;
  const registry = (opts.npmRegistry ?? DEFAULT_NPM_REGISTRY).replace(/\/?$/, '/');
  const tgz = await fetchVerified(
    new URL(pin.tarball, registry).href,
    { integrity: pin.integrity },
    `${dir}.tgz`,
  );
  const tmp = `${dir}.${process.pid}.tmp`;
  await rm(tmp, { recursive: true, force: true });
  await mkdir(tmp, { recursive: true });
  await extract({ file: tgz, cwd: tmp, strip: 2, filter: (p) => p === 'package/bin/node' });
  // Once per cache: ~18 MB of symbols and debug info that nothing in the image reads.
  const extracted = join(tmp, 'node');
  await writeFile(extracted, stripElf(await readFile(extracted)), { mode: 0o755 });
  await rm(dir, { recursive: true, force: true });
  await rename(tmp, dir);
  await rm(tgz, { force: true });
  return binary;
}

/** Where this cogts installation keeps the bundled server (built by `npm run build`). */
export function serverBundlePath(): string {
  return join(packageRoot, 'dist', 'runtime', 'server.mjs');
}

/** The Python `cog` package shipped with cogts. */
export function cogPackageDir(): string {
  return join(packageRoot, 'src', 'python', 'cog');
}

/** A file the runtime layer is made of is not there: the checkout was not built. */
export function runtimeFileMissing(path: string, why?: string): CogtsError {
  return new CogtsError('E_RUNTIME_MISSING', `cogts runtime file missing: ${path}${why ? ` (${why})` : ''}`, {
    hint: 'run `npm run build` in the cogts checkout (it bundles the server with esbuild)',
  });
}

async function fileEntry(imagePath: string, hostPath: string, mode: number): Promise<LayerEntry> {
  const st = await stat(hostPath).catch(() => undefined);
  if (!st?.isFile()) {
    throw runtimeFileMissing(hostPath);
  }
  return {
    type: 'file',
    path: imagePath,
    size: st.size,
    mode,
    open: () => createReadStream(hostPath, { highWaterMark: 1 << 20 }),
  };
}

/** The .py files of the cog shim (no __pycache__), sorted: the runtime layer's files and key material. */
export async function pythonFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.name === '__pycache__') continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await pythonFiles(p)));
    else if (e.isFile() && e.name.endsWith('.py')) out.push(p);
  }
  return out.sort();
}

/** The runtime layer's entries. Modes are fixed: the host checkout's permissions must not leak in. */
export async function runtimeEntries(opts: {
  nodeBinary: string;
  serverBundle?: string;
  cogPackage?: string;
}): Promise<LayerEntry[]> {
  const cogDir = opts.cogPackage ?? cogPackageDir();
  const entries: LayerEntry[] = [
    await fileEntry(RUNTIME_NODE, opts.nodeBinary, 0o755),
    await fileEntry(RUNTIME_SERVER, opts.serverBundle ?? serverBundlePath(), 0o644),
  ];
  for (const f of await pythonFiles(cogDir)) {
    entries.push(await fileEntry(`${RUNTIME_PYTHONPATH}/cog/${relative(cogDir, f)}`, f, 0o644));
  }
  return entries;
}
