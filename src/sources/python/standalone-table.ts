import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CogtsError } from '../../errors.js';

/** compat/python-standalone.json: where python-build-standalone archives live and their hashes. */
export interface StandaloneTable {
  baseUrl: string;
  /** `{version}`, `{release}`, `{triple}`, `{flavor}` are substituted. */
  fileTemplate: string;
  defaultFlavor: string;
  flavors: string[];
  /** OCI platform ("linux/amd64") → target triple. */
  triples: Record<string, string>;
  versions: Record<string, { version: string; release: string; sha256: Record<string, string | null> }>;
}

export interface StandaloneAsset {
  /** Full CPython version ("3.11.10"). */
  version: string;
  release: string;
  triple: string;
  flavor: string;
  filename: string;
  url: string;
  sha256: string;
  /** Where the hash came from, for the lock file and messages. */
  sha256From: 'compat' | 'user';
}

export interface StandaloneLookup {
  /** "3.11" (the table's pinned build) or "3.11.7" (needs `release`, unless the table pins exactly it). */
  requested: string;
  /** OCI platform of the image ("linux/amd64"). */
  platform: string;
  flavor?: string;
  /** A python-build-standalone release tag, for versions the table does not pin. */
  release?: string;
  /** A user-supplied hash (`--python-sha256`): required when the table has none. */
  sha256?: string;
  /** Replaces `baseUrl` (like uv's UV_PYTHON_INSTALL_MIRROR): `<mirror>/<release>/<file>`. */
  mirror?: string;
}

let cached: StandaloneTable | undefined;

/** The table shipped in the repository's compat/ folder (read at run time, so it is data). */
export function loadStandaloneTable(): StandaloneTable {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const file = join(dir, 'compat', 'python-standalone.json');
    if (existsSync(file) && existsSync(join(dir, 'package.json'))) {
      cached = JSON.parse(readFileSync(file, 'utf8')) as StandaloneTable;
      return cached;
    }
    const up = dirname(dir);
    if (up === dir)
      throw new CogtsError(
        'E_COMPAT_MISSING',
        'compat/python-standalone.json not found above the cogts installation',
      );
    dir = up;
  }
}

/** Picks the archive for a request and checks that a sha256 is known before anything is downloaded. */
export function standaloneAsset(
  q: StandaloneLookup,
  table: StandaloneTable = loadStandaloneTable(),
): StandaloneAsset {
  const m = /^(\d+\.\d+)(?:\.(\d+))?$/.exec(q.requested.trim());
  if (!m) {
    throw new CogtsError('E_PYTHON_VERSION', `python_version "${q.requested}" is not X.Y or X.Y.Z`, {
      hint: 'e.g. python_version: "3.11"',
    });
  }
  const minor = m[1] as string;
  const pinned = table.versions[minor];
  const triple = table.triples[q.platform];
  if (!triple) {
    throw new CogtsError(
      'E_PYTHON_PLATFORM',
      `python-build-standalone has no build for platform ${q.platform} in compat/python-standalone.json`,
      {
        hint: `known platforms: ${Object.keys(table.triples).join(', ')}`,
      },
    );
  }
  const flavor = q.flavor ?? table.defaultFlavor;
  if (!table.flavors.includes(flavor)) {
    throw new CogtsError('E_PYTHON_FLAVOR', `unknown python-build-standalone flavor "${flavor}"`, {
      hint: `one of ${table.flavors.join(', ')}`,
    });
  }
  const wantsExact = m[2] !== undefined;
  const useTable =
    pinned && (!wantsExact || pinned.version === q.requested) && (!q.release || q.release === pinned.release);
  if (!useTable && !q.release) {
    throw new CogtsError(
      'E_PYTHON_UNPINNED',
      `Python ${q.requested} is not pinned in compat/python-standalone.json${pinned ? ` (it pins ${minor} as ${pinned.version}+${pinned.release})` : ''}`,
      {
        hint: 'ask for the minor version only, or give the release tag and hash (--python-release YYYYMMDD --python-sha256 HEX)',
      },
    );
  }
  const version = useTable ? pinned.version : q.requested;
  const release = useTable ? pinned.release : (q.release as string);
  const filename = table.fileTemplate
    .replace('{version}', version)
    .replace('{release}', release)
    .replace('{triple}', triple)
    .replace('{flavor}', flavor);
  const base = (q.mirror ?? table.baseUrl).replace(/\/+$/, '');
  const url = `${base}/${encodeURIComponent(release)}/${encodeURIComponent(filename)}`;
  const known = useTable ? pinned.sha256[`${triple}-${flavor}`] : undefined;
  const sha256 = q.sha256?.toLowerCase() ?? known ?? undefined;
  if (!sha256) {
    throw new CogtsError(
      'E_PYTHON_HASH_MISSING',
      `no sha256 is recorded for ${filename} in compat/python-standalone.json, so it cannot be verified`,
      {
        hint: `pass --python-sha256 <hex> (from the release's SHA256SUMS), fill the entry in compat/python-standalone.json, or choose another flavor (--python-flavor)`,
      },
    );
  }
  if (!/^[0-9a-f]{64}$/.test(sha256))
    throw new CogtsError('E_PYTHON_HASH', `"${sha256}" is not a sha256 hex digest`);
  return {
    version,
    release,
    triple,
    flavor,
    filename,
    url,
    sha256,
    sha256From: q.sha256 ? 'user' : 'compat',
  };
}
