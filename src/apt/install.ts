import { createReadStream, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CogtsError } from '../errors.js';
import type { LayerEntry } from '../layer/entry.js';
import { alternativeEntries } from './alternatives.js';
import { type StagedDeb, stageDeb } from './deb.js';
import { dpkgDatabase } from './dpkgdb.js';
import { fetchToCache } from './fetch.js';
import { type NewNode, rebuildLdCache } from './ldscan.js';
import {
  type AlternativeInstall,
  activatedTriggers,
  findAlternatives,
  unhandledLines,
} from './maintscripts.js';
import type { AptPackagePin, AptResolution } from './plan.js';
import type { RootfsView } from './types.js';
import { makePathMapper, multiarchTriplet } from './usrmerge.js';

/** What the build prints after laying down packages: what was emulated and what was not run. */
export interface AptInstallReport {
  packages: { name: string; version: string }[];
  alternatives: { name: string; link: string; path: string; pkg: string }[];
  ldconfig: { entries: number; added: number };
  /** Maintainer-script lines with effects cogts does not reproduce (never run). */
  skippedScripts: { pkg: string; script: string; lines: string[] }[];
  /** Triggers other than ldconfig that the packages activate (not run). */
  skippedTriggers: { pkg: string; trigger: string }[];
  /** Paths written by more than one package (last package in name order wins). */
  overlaps: string[];
}

export interface InstallAptOptions {
  cacheDir: string;
  /** Parallel downloads/unpacks (default 4). */
  concurrency?: number;
}

async function pool<T, R>(items: T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

/** Downloads (sha256-checked) and unpacks every pinned .deb into the cache; cached ones are reused. */
export async function fetchDebs(packages: AptPackagePin[], o: InstallAptOptions): Promise<StagedDeb[]> {
  return pool(packages, o.concurrency ?? 4, async (p) => {
    const path = await fetchToCache(p.url, p.sha256, o.cacheDir, `${p.name} ${p.version}`);
    try {
      return await stageDeb(path, p.sha256, o.cacheDir);
    } catch (e) {
      if (e instanceof CogtsError) throw e;
      throw new CogtsError(
        'E_APT_DEB',
        `cannot unpack ${p.name} ${p.version} (${p.url}): ${e instanceof Error ? e.message : String(e)}`,
        { cause: e },
      );
    }
  });
}

/**
 * Turns a resolution into layer entries over `base`: package files (usrmerge-mapped, content
 * streamed from the unpack cache), the dpkg database, update-alternatives links and a regenerated
 * /etc/ld.so.cache. Entries are sorted by path and unique.
 */
export async function installApt(
  res: AptResolution,
  base: RootfsView,
  o: InstallAptOptions,
): Promise<{ entries: LayerEntry[]; report: AptInstallReport }> {
  if (res.packages.length === 0) {
    // Nothing to add: an empty layer, not a rewritten status/ld.so.cache identical to the base's.
    const empty: AptInstallReport = {
      packages: [],
      alternatives: [],
      ldconfig: { entries: 0, added: 0 },
      skippedScripts: [],
      skippedTriggers: [],
      overlaps: [],
    };
    return { entries: [], report: empty };
  }
  const debs = await fetchDebs(res.packages, o);
  const mapper = makePathMapper(base);
  const triplet = multiarchTriplet(res.arch);
  const out = new Map<string, LayerEntry>();
  const nodes = new Map<string, NewNode>();
  const owner = new Map<string, string>();
  const overlaps: string[] = [];
  const report: AptInstallReport = {
    packages: res.packages.map((p) => ({ name: p.name, version: p.version })),
    alternatives: [],
    ldconfig: { entries: 0, added: 0 },
    skippedScripts: [],
    skippedTriggers: [],
    overlaps,
  };
  const installs: AlternativeInstall[] = [];

  debs.forEach((deb, i) => {
    const pin = res.packages[i]!;
    const blobOf = new Map<string, { host: string; size: number }>();
    for (const e of deb.entries) {
      const path = mapper.map(e.path);
      if (e.type === 'dir') {
        // A base symlink-to-dir here (/bin on merged-/usr) must survive: children are mapped instead.
        if (mapper.isDirLink(e.path) || out.has(path)) continue;
        out.set(path, { type: 'dir', path, mode: e.mode });
        nodes.set(path, { kind: 'dir' });
        continue;
      }
      const prev = owner.get(path);
      if (prev !== undefined && prev !== pin.name) overlaps.push(`${path} (${prev}, ${pin.name})`);
      owner.set(path, pin.name);
      if (e.type === 'symlink') {
        out.set(path, { type: 'symlink', path, target: e.target!, mode: 0o777 });
        nodes.set(path, { kind: 'symlink', target: e.target! });
        continue;
      }
      // Hard links become plain files with the same content: the tar writer sorts entries, so a
      // link could otherwise precede its target.
      const src =
        e.type === 'file' ? { host: join(deb.dir, e.blob!), size: e.size ?? 0 } : blobOf.get(e.target!);
      if (!src)
        throw new CogtsError(
          'E_APT_DEB',
          `${pin.name}: hard link ${e.path} → ${e.target} has no earlier target`,
        );
      blobOf.set(e.path, src);
      out.set(path, {
        type: 'file',
        path,
        size: src.size,
        mode: e.mode,
        open: () => createReadStream(src.host),
      });
      nodes.set(path, { kind: 'file', host: src.host });
    }
    for (const script of ['preinst', 'postinst']) {
      const text = deb.control[script];
      if (!text) continue;
      if (script === 'postinst') {
        const alt = findAlternatives(pin.name, text, triplet);
        installs.push(...alt.installs);
        if (alt.unresolved.length)
          report.skippedScripts.push({
            pkg: pin.name,
            script: `${script} (update-alternatives)`,
            lines: alt.unresolved,
          });
      }
      const lines = unhandledLines(text);
      if (lines.length) report.skippedScripts.push({ pkg: pin.name, script, lines });
    }
    for (const t of activatedTriggers(deb.control.triggers))
      if (!/^ldconfig$|^libc-upgrade$/.test(t)) report.skippedTriggers.push({ pkg: pin.name, trigger: t });
  });

  const generated: LayerEntry[] = [];
  for (const pin of res.packages) generated.push(...knownEffects(pin.name, nodes));
  const alt = alternativeEntries(
    installs,
    (p) => mapper.map(p),
    (name) => base.readFile(`/var/lib/dpkg/alternatives/${name}`)?.toString('utf8'),
  );
  report.alternatives = alt.chosen;
  generated.push(...alt.entries);
  for (const e of alt.entries)
    if (e.type === 'symlink') nodes.set(e.path, { kind: 'symlink', target: e.target });
  generated.push(...dpkgDatabase(base.readFile('/var/lib/dpkg/status')?.toString('utf8') ?? '', debs));
  const ld = rebuildLdCache(base, nodes, mapper, triplet, (p) => {
    const n = nodes.get(p);
    return n?.kind === 'file' ? readFileSync(n.host, 'utf8') : undefined;
  });
  report.ldconfig = { entries: ld.entries, added: ld.added };
  generated.push(...ld.cache);
  for (const g of generated) out.set(g.path, g);
  const entries = [...out.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { entries, report };
}

/**
 * Postinst effects that matter to a runnable image and are plain data, recreated by package name
 * (the rest of those scripts is still listed as not run): Python's site directory for pip,
 * readline's default /etc/inputrc, fontconfig's default configuration links.
 */
function knownEffects(pkg: string, nodes: Map<string, NewNode>): LayerEntry[] {
  const py = /^python(3\.\d+)-minimal$/.exec(pkg);
  if (py)
    return [
      { type: 'dir', path: `/usr/local/lib/python${py[1]}`, mode: 0o2775 },
      { type: 'dir', path: `/usr/local/lib/python${py[1]}/dist-packages`, mode: 0o2775 },
    ];
  if (pkg === 'fontconfig-config')
    // The links its postinst makes from debconf's defaults (slight hinting, no bitmap fonts).
    return ['10-hinting-slight.conf', '70-no-bitmaps.conf'].map((c) => ({
      type: 'symlink',
      path: `/etc/fonts/conf.d/${c}`,
      target: `/usr/share/fontconfig/conf.avail/${c}`,
    }));
  const inputrc = nodes.get('/usr/share/readline/inputrc');
  if (pkg === 'readline-common' && inputrc?.kind === 'file') {
    const host = inputrc.host;
    return [
      {
        type: 'file',
        path: '/etc/inputrc',
        size: statSync(host).size,
        mode: 0o644,
        open: () => createReadStream(host),
      },
    ];
  }
  return [];
}

/** Human-readable lines for the build output. */
export function formatReport(r: AptInstallReport): string[] {
  const lines = [
    `apt: ${r.packages.length} packages laid down; ld.so.cache ${r.ldconfig.entries} entries (${r.ldconfig.added} new)`,
  ];
  for (const a of r.alternatives)
    lines.push(`apt: update-alternatives ${a.name}: ${a.link} → ${a.path} (${a.pkg})`);
  for (const s of r.skippedScripts)
    lines.push(
      `apt: not run: ${s.pkg} ${s.script}: ${s.lines.slice(0, 3).join(' | ')}${s.lines.length > 3 ? ' …' : ''}`,
    );
  for (const t of r.skippedTriggers) lines.push(`apt: trigger not run: ${t.trigger} (${t.pkg})`);
  return lines;
}
