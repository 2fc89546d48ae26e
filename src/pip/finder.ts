/**
 * Finds installable wheels for a project across the configured indexes and find-links pages, picks
 * the best-tagged wheel per version for the target, and fetches core metadata as cheaply as it can:
 * metadata cache → PEP 658 `.metadata` → wheel already cached → HTTP Range read → whole download.
 */
import { createHash } from 'node:crypto';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { atomicWrite } from '../atomic-write.js';
import { CogtsError } from '../errors.js';
import { type HttpClient, redactUrl } from './http.js';
import { type CoreMetadata, parseMetadata } from './metadata.js';
import { isSdistName, normalizeName, parseWheelName } from './names.js';
import { compareVersions, versionMatches } from './pep508.js';
import { type DistFile, fetchFindLinks, fetchProjectFiles } from './simple-index.js';
import { describeTarget, makeTagRanker, type PythonTarget, targetPythonFull } from './target.js';
import { openZip, rangeReadMember, readAll } from './zip.js';

export interface Candidate {
  key: string;
  version: string;
  file: DistFile;
}

export interface ProjectListing {
  /** Installable candidates, newest first (one wheel per version: the best tag for the target). */
  candidates: Candidate[];
  /** Every file seen (for "no wheel for the platform" messages). */
  files: DistFile[];
}

export interface FinderOptions {
  http: HttpClient;
  indexUrls: string[];
  findLinks: string[];
  target: PythonTarget;
  cacheDir: string;
}

export class Finder {
  private readonly listings = new Map<string, Promise<ProjectListing>>();
  private readonly metas = new Map<string, Promise<CoreMetadata>>();
  private flat: Promise<DistFile[]> | undefined;
  private readonly rank: (tags: string[]) => number | undefined;
  private readonly pyFull: string;
  /** How each metadata was obtained (benchmarks/tests read it). */
  readonly metadataVia = { cache: 0, pep658: 0, range: 0, wheel: 0 };

  constructor(readonly opts: FinderOptions) {
    this.rank = makeTagRanker(opts.target);
    this.pyFull = targetPythonFull(opts.target);
  }

  listing(key: string): Promise<ProjectListing> {
    let p = this.listings.get(key);
    if (!p) {
      p = this.load(key);
      this.listings.set(key, p);
    }
    return p;
  }

  private async load(key: string): Promise<ProjectListing> {
    this.flat ??= Promise.all(this.opts.findLinks.map((u) => fetchFindLinks(this.opts.http, u))).then((l) =>
      l.flat(),
    );
    const [pages, flat] = await Promise.all([
      Promise.all(this.opts.indexUrls.map((u) => fetchProjectFiles(this.opts.http, u, key))),
      this.flat,
    ]);
    const files = [...pages.flat(), ...flat.filter((f) => (f.wheel ? f.wheel.name === key : false))];
    return { candidates: this.pick(key, files), files };
  }

  /** Best wheel per version; files listed first (earlier index) win ties. */
  pick(key: string, files: DistFile[]): Candidate[] {
    const best = new Map<string, { c: Candidate; r: number }>();
    for (const f of files) {
      if (!f.wheel || f.wheel.name !== key) continue;
      if (f.requiresPython && !safeMatch(this.pyFull, f.requiresPython)) continue;
      const r = this.rank(f.wheel.tags);
      if (r === undefined) continue;
      const prev = best.get(f.wheel.version);
      // A yanked file never beats a live one for the same version.
      const score = r + (f.yanked === false ? 0 : 1e6);
      if (!prev || score < prev.r)
        best.set(f.wheel.version, { c: { key, version: f.wheel.version, file: f }, r: score });
    }
    return [...best.values()].map((b) => b.c).sort((a, b) => compareVersions(b.version, a.version));
  }

  /** A direct reference (`name @ url`) as a candidate. */
  direct(key: string, url: string): Candidate {
    const i = url.indexOf('#');
    const bare = i >= 0 ? url.slice(0, i) : url;
    const sha = /sha256=([0-9a-f]{64})/i.exec(url.slice(i + 1))?.[1];
    const filename = decodeURIComponent(new URL(bare).pathname.split('/').pop() ?? '');
    const wheel = parseWheelName(filename);
    if (!wheel) throw new CogtsError('E_PIP_REQUIREMENT', `${redactUrl(url)} is not a wheel file`);
    if (wheel.name !== key)
      throw new CogtsError('E_PIP_REQUIREMENT', `${redactUrl(url)} is a wheel of ${wheel.name}, not ${key}`);
    if (this.rank(wheel.tags) === undefined)
      throw noWheelError(
        key,
        [{ filename, url: bare, yanked: false, metadata: false, wheel, source: 'direct URL' }],
        this.opts.target,
      );
    const file: DistFile = {
      filename,
      url: bare,
      yanked: false,
      metadata: false,
      wheel,
      source: 'direct URL',
    };
    if (sha) file.sha256 = sha.toLowerCase();
    return { key, version: wheel.version, file };
  }

  metadata(c: Candidate): Promise<CoreMetadata> {
    const id = c.file.sha256 ?? c.file.url;
    let p = this.metas.get(id);
    if (!p) {
      p = this.fetchMetadata(c);
      this.metas.set(id, p);
    }
    return p;
  }

  private async fetchMetadata(c: Candidate): Promise<CoreMetadata> {
    const f = c.file;
    const id = f.sha256 ?? createHash('sha256').update(f.url).digest('hex');
    const cachePath = join(this.opts.cacheDir, 'metadata', id.slice(0, 2), `${id}.METADATA`);
    const where = `${f.filename} (${f.source})`;
    if (f.sha256) {
      try {
        const t = await readFile(cachePath, 'utf8');
        this.metadataVia.cache++;
        return parseMetadata(t, where);
      } catch {
        /* not cached */
      }
    }
    let text: string | undefined;
    if (f.metadata) {
      const r = await this.opts.http.getText(`${f.url}.metadata`, '*/*');
      if (r.status === 200) {
        if (
          f.metadata.sha256 &&
          createHash('sha256').update(r.body).digest('hex') !== f.metadata.sha256.toLowerCase()
        ) {
          throw new CogtsError(
            'E_PIP_HASH_MISMATCH',
            `hash mismatch for ${redactUrl(f.url)}.metadata (PEP 658)`,
          );
        }
        text = r.body;
        this.metadataVia.pep658++;
      }
    }
    const stem = `${(f.wheel?.name ?? '').replace(/-/g, '_')}-`;
    const pickMeta = (names: string[]) => {
      const m = names.filter((n) => /^[^/]+\.dist-info\/METADATA$/.test(n));
      return m.find((n) => n.toLowerCase().startsWith(stem.toLowerCase())) ?? m[0];
    };
    if (text === undefined && f.sha256) {
      const cached = this.wheelCachePath(f);
      if (await exists(cached)) text = await this.metadataFromFile(cached, pickMeta, where);
    }
    if (text === undefined && f.url.startsWith('file:')) {
      // A local wheel is read in place: no copy into the cache just to learn its dependencies.
      text = await this.metadataFromFile(fileURLToPath(f.url), pickMeta, where);
      this.metadataVia.range++;
    }
    if (text === undefined) {
      const buf = await rangeReadMember(this.opts.http, f.url, pickMeta);
      if (buf) {
        text = buf.toString('utf8');
        this.metadataVia.range++;
      }
    }
    if (text === undefined) {
      const { path } = await this.ensureWheel(f);
      text = await this.metadataFromFile(path, pickMeta, where);
      this.metadataVia.wheel++;
    }
    if (f.sha256) await atomicWrite(cachePath, text);
    return parseMetadata(text, where);
  }

  private async metadataFromFile(
    path: string,
    pick: (n: string[]) => string | undefined,
    where: string,
  ): Promise<string> {
    const z = await openZip(path);
    try {
      const name = pick(z.entries.map((e) => e.fileName));
      const e = z.entries.find((x) => x.fileName === name);
      if (!e) throw new CogtsError('E_PIP_WHEEL', `${where}: no .dist-info/METADATA in the wheel`);
      return (await readAll(await z.open(e))).toString('utf8');
    } finally {
      z.close();
    }
  }

  wheelCachePath(f: DistFile): string {
    const id = f.sha256 ?? `url-${createHash('sha256').update(f.url).digest('hex')}`;
    return join(this.opts.cacheDir, 'wheels', id.slice(0, 2), id, f.filename);
  }

  private readonly downloads = new Map<string, Promise<{ path: string; sha256: string }>>();

  /** The wheel in the cache (downloaded and hash-checked if absent). `allowed` = --hash / lock digests. */
  ensureWheel(f: DistFile, allowed?: string[]): Promise<{ path: string; sha256: string }> {
    const path = this.wheelCachePath(f);
    let p = this.downloads.get(path);
    if (!p) {
      p = (async () => {
        const expect = allowed?.length ? allowed : f.sha256 ? [f.sha256] : undefined;
        if (f.sha256 && (await exists(path))) {
          if (expect && !expect.includes(f.sha256)) throw hashErr(f, expect, f.sha256);
          return { path, sha256: f.sha256 };
        }
        const { sha256 } = await this.opts.http.download(f.url, path, expect);
        return { path, sha256 };
      })();
      this.downloads.set(path, p);
    }
    return p;
  }
}

function hashErr(f: DistFile, expect: string[], got: string): CogtsError {
  return new CogtsError(
    'E_PIP_HASH_MISMATCH',
    `hash mismatch for ${f.filename} (${redactUrl(f.url)}): expected sha256 ${expect.join(' or ')}, the index says ${got}`,
    {
      hint: 'update the --hash / lock entry only if you trust the new file',
    },
  );
}

function safeMatch(version: string, spec: string): boolean {
  try {
    return versionMatches(version, spec.replace(/\s+/g, ''), true);
  } catch {
    return true;
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await access(p);
    return true;
  } catch {
    return false;
  }
}

/** "no wheel for the platform": name what was found so the user can pick another source. */
export function noWheelError(key: string, files: DistFile[], target: PythonTarget): CogtsError {
  const wheels = files.filter((f) => f.wheel && f.wheel.name === normalizeName(key));
  const sdists = files.filter((f) => !f.wheel && isSdistName(f.filename));
  const tags = [...new Set(wheels.flatMap((w) => w.wheel?.tags ?? []))].sort();
  let msg = `no wheel of ${key} fits ${describeTarget(target)}`;
  if (tags.length)
    msg += `; wheels found have tags: ${tags.slice(0, 12).join(', ')}${tags.length > 12 ? `, … (${tags.length})` : ''}`;
  if (sdists.length)
    msg += `; only source distributions otherwise (${sdists
      .slice(0, 3)
      .map((s) => s.filename)
      .join(', ')}), which cogts does not build`;
  return new CogtsError('E_PIP_NO_WHEEL', msg, {
    hint: 'use a version that publishes a manylinux wheel for this Python, add an index or --find-links with such a wheel, or point at a wheel file',
  });
}
