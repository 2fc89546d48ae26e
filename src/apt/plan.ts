import { CogtsError } from '../errors.js';
import { fetchRepoIndex } from './repo.js';
import { buildUniverse, resolve } from './resolve.js';
import { applyMirrors, parseMirror, readSources } from './sources.js';
import { nativeArch, parseStatus } from './status.js';
import type { AptSource, RootfsView } from './types.js';

/** One resolved .deb: everything needed to fetch and verify it again (what the lock file records). */
export interface AptPackagePin {
  name: string;
  version: string;
  arch: string;
  url: string;
  sha256: string;
  size: number;
}

/** Plain data: the outcome of resolution, serialisable into the lock file and replayable by installApt. */
export interface AptResolution {
  arch: string;
  requested: string[];
  /** The signed indexes the packages came from (verified InRelease URLs). */
  indexes: string[];
  /** Sorted by name; only packages the base does not already have at a satisfying version. */
  packages: AptPackagePin[];
}

export interface PlanAptOptions {
  /** The base image's filesystem: sources, keyrings and /var/lib/dpkg/status are read from it. */
  base: RootfsView;
  /** Requested package names (`name` or `name=version`), e.g. cog.yaml's system_packages. */
  packages: string[];
  /** `--apt-mirror` values: a URL or FROM=TO, first match wins. */
  mirrors?: string[];
  /** Override the base's sources (e.g. extra PPAs); default: the base's own sources. */
  sources?: AptSource[];
  /** dpkg architecture; default: the base's dpkg architecture. */
  arch?: string;
  /** Content-addressed download cache (indexes, .debs, unpacked .debs). */
  cacheDir: string;
}

/** Reads the base's apt state, fetches and verifies every index, and resolves `packages`. */
export async function planApt(o: PlanAptOptions): Promise<AptResolution> {
  const statusText = o.base.readFile('/var/lib/dpkg/status');
  const installed = parseStatus(statusText?.toString('utf8') ?? '');
  const arch = o.arch ?? nativeArch(installed) ?? 'amd64';
  const sources = applyMirrors(o.sources ?? readSources(o.base), (o.mirrors ?? []).map(parseMirror)).filter(
    (s) => !s.architectures || s.architectures.includes(arch),
  );
  if (sources.length === 0)
    throw new CogtsError(
      'E_APT_SOURCES',
      'the base image has no apt sources (/etc/apt/sources.list, /etc/apt/sources.list.d/)',
      {
        hint: 'use a Debian/Ubuntu base image, or remove build.system_packages',
      },
    );
  const indexes = await Promise.all(sources.map((s) => fetchRepoIndex(s, o.base, arch, o.cacheDir)));
  const universe = buildUniverse(
    indexes.flatMap((i) => i.packages),
    arch,
  );
  const r = resolve(universe, installed, o.packages);
  return {
    arch,
    requested: [...o.packages],
    indexes: indexes.map((i) => i.inRelease),
    packages: r.install.map((p) => ({
      name: p.name,
      version: p.version,
      arch: p.arch,
      url: `${p.baseUrl}/${p.filename}`,
      sha256: p.sha256,
      size: p.size,
    })),
  };
}
