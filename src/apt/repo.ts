import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { CogtsError } from '../errors.js';
import { field, parseStanzas } from './deb822.js';
import { compressionOf, decompressBuffer } from './decompress.js';
import { casPath, fetchBuffer, fetchToCache } from './fetch.js';
import { keyringFor, verifyInRelease } from './keyring.js';
import { type AptSource, isFlat, type RootfsView } from './types.js';

/** What the resolver needs of one Packages stanza (the rest is read from the .deb's own control). */
export interface PackageRecord {
  name: string;
  version: string;
  arch: string;
  multiArch?: string;
  priority?: string;
  depends?: string;
  preDepends?: string;
  provides?: string;
  breaks?: string;
  conflicts?: string;
  filename: string;
  sha256: string;
  size: number;
  /** Base URL that `filename` is relative to. */
  baseUrl: string;
}

export interface RepoIndex {
  source: AptSource;
  /** The InRelease URL that was verified. */
  inRelease: string;
  packages: PackageRecord[];
}

/** `SHA256:` lines of a Release file: relative path → {sha256, size}. */
export function releaseHashes(release: string): Map<string, { sha256: string; size: number }> {
  const st = parseStanzas(release)[0];
  const out = new Map<string, { sha256: string; size: number }>();
  for (const line of (st ? (field(st, 'SHA256') ?? '') : '').split('\n')) {
    const [h, size, path] = line.trim().split(/\s+/);
    if (h && size && path) out.set(path, { sha256: h.toLowerCase(), size: Number(size) });
  }
  return out;
}

/** Fast Packages parser: only the fields the resolver and installer use. */
export function parsePackages(text: string, baseUrl: string): PackageRecord[] {
  const out: PackageRecord[] = [];
  for (const block of text.split('\n\n')) {
    if (block.trim() === '') continue;
    const f: Record<string, string> = {};
    let last = '';
    for (const line of block.split('\n')) {
      if (line[0] === ' ' || line[0] === '\t') {
        if (
          last === 'Depends' ||
          last === 'Pre-Depends' ||
          last === 'Provides' ||
          last === 'Breaks' ||
          last === 'Conflicts'
        )
          f[last] += ` ${line.trim()}`;
        continue;
      }
      const c = line.indexOf(':');
      if (c <= 0) continue;
      last = line.slice(0, c);
      switch (last) {
        case 'Package':
        case 'Version':
        case 'Architecture':
        case 'Multi-Arch':
        case 'Priority':
        case 'Depends':
        case 'Pre-Depends':
        case 'Provides':
        case 'Breaks':
        case 'Conflicts':
        case 'Filename':
        case 'SHA256':
        case 'Size':
          f[last] = line.slice(c + 1).trim();
      }
    }
    if (!f.Package || !f.Version || !f.Filename || !f.SHA256) continue;
    const rec: PackageRecord = {
      name: f.Package,
      version: f.Version,
      arch: f.Architecture ?? 'all',
      filename: f.Filename.replace(/^\.\//, ''),
      sha256: f.SHA256.toLowerCase(),
      size: Number(f.Size ?? 0),
      baseUrl,
    };
    if (f['Multi-Arch']) rec.multiArch = f['Multi-Arch'];
    if (f.Priority) rec.priority = f.Priority;
    if (f.Depends) rec.depends = f.Depends;
    if (f['Pre-Depends']) rec.preDepends = f['Pre-Depends'];
    if (f.Provides) rec.provides = f.Provides;
    if (f.Breaks) rec.breaks = f.Breaks;
    if (f.Conflicts) rec.conflicts = f.Conflicts;
    out.push(rec);
  }
  return out;
}

/** apt refuses a Release past its Valid-Until (a frozen or replayed mirror); so do we. */
export function checkValidUntil(release: string, url: string, now = new Date()): void {
  const st = parseStanzas(release)[0];
  const until = st ? field(st, 'Valid-Until') : undefined;
  if (!until) return;
  const t = Date.parse(until);
  if (Number.isFinite(t) && t < now.getTime())
    throw new CogtsError('E_APT_EXPIRED', `${url} expired on ${until} (Valid-Until)`, {
      hint: 'the mirror is stale or replays an old index; point --apt-mirror at a current mirror',
    });
}

function suiteBase(s: AptSource): string {
  if (isFlat(s)) {
    const p = s.suite.replace(/^\.?\/+/, '').replace(/\/+$/, '');
    return p ? `${s.uri}/${p}` : s.uri;
  }
  return `${s.uri}/dists/${s.suite}`;
}

/**
 * Fetches and verifies one source's InRelease, then its Packages index for `arch` (per component),
 * checked against the signed SHA256 list. Decompressed indexes are cached by their signed hash, so
 * a warm run downloads only InRelease.
 */
export async function fetchRepoIndex(
  source: AptSource,
  view: RootfsView,
  arch: string,
  cacheDir: string,
): Promise<RepoIndex> {
  const base = suiteBase(source);
  const inReleaseUrl = `${base}/InRelease`;
  const raw = await fetchBuffer(inReleaseUrl);
  if (!raw)
    throw new CogtsError('E_APT_FETCH', `${inReleaseUrl} not found (source from ${source.origin})`, {
      hint: 'cogts needs a signed InRelease file; check the suite name and mirror',
    });
  const release = await verifyInRelease(raw, await keyringFor(source, view), inReleaseUrl);
  checkValidUntil(release, inReleaseUrl);
  const hashes = releaseHashes(release);
  const packages: PackageRecord[] = [];
  const dirs = isFlat(source) ? [''] : source.components.map((c) => `${c}/binary-${arch}/`);
  const fileBase = isFlat(source) ? base : source.uri;
  for (const dir of dirs) {
    const plain = hashes.get(`${dir}Packages`);
    const candidates = ['Packages.xz', 'Packages.gz', 'Packages'].filter((n) => hashes.has(dir + n));
    if (candidates.length === 0) {
      // A component without this architecture is not an error for apt either (e.g. contrib on arm).
      continue;
    }
    let text: string | undefined;
    if (plain && existsSync(casPath(cacheDir, plain.sha256)))
      text = readFileSync(casPath(cacheDir, plain.sha256), 'utf8');
    if (text === undefined) {
      const name = candidates[0]!;
      const want = hashes.get(dir + name)!;
      const path = await fetchToCache(
        `${base}/${dir}${name}`,
        want.sha256,
        cacheDir,
        `Packages index of ${source.suite}`,
      );
      const data = await decompressBuffer(readFileSync(path), compressionOf(name));
      if (plain) {
        const got = createHash('sha256').update(data).digest('hex');
        if (got !== plain.sha256)
          throw new CogtsError(
            'E_APT_HASH',
            `${base}/${dir}${name} decompresses to sha256 ${got}, InRelease says ${plain.sha256}`,
          );
        const dest = casPath(cacheDir, plain.sha256);
        mkdirSync(dirname(dest), { recursive: true });
        writeFileSync(`${dest}.tmp${process.pid}`, data);
        renameSync(`${dest}.tmp${process.pid}`, dest);
      }
      text = data.toString('utf8');
    }
    packages.push(...parsePackages(text, fileBase));
  }
  return { source, inRelease: inReleaseUrl, packages };
}
