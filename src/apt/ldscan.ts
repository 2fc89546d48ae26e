import { closeSync, openSync, readSync } from 'node:fs';
import { posix } from 'node:path';
import type { LayerEntry } from '../layer/entry.js';
import { type ElfInfo, readElfInfo } from './elf.js';
import { type CacheEntry, cacheFlags, parseLdCache, writeLdCache } from './ldcache.js';
import type { RootfsView } from './types.js';
import type { PathMapper } from './usrmerge.js';

/** A path the new layer writes: regular files point at their staged copy on the host. */
export type NewNode = { kind: 'file'; host: string } | { kind: 'symlink'; target: string } | { kind: 'dir' };

/** The base overlaid with the new layer, as far as ldconfig needs to look at it. */
class Overlay {
  constructor(
    readonly base: RootfsView,
    readonly layer: Map<string, NewNode>,
    readonly mapper: PathMapper,
  ) {}

  list(dir: string): string[] {
    const names = new Set(this.base.list(dir));
    const prefix = dir.endsWith('/') ? dir : `${dir}/`;
    for (const p of this.layer.keys())
      if (p.startsWith(prefix) && !p.slice(prefix.length).includes('/')) names.add(p.slice(prefix.length));
    return [...names].sort();
  }

  /** Follows symlinks (layer first, then base) to the final path of the file they name. */
  realPath(path: string, depth = 0): string {
    const p = this.mapper.map(path);
    if (depth > 16) return p;
    const node = this.layer.get(p);
    const target = node ? (node.kind === 'symlink' ? node.target : undefined) : this.base.readlink(p);
    return target === undefined ? p : this.realPath(posix.resolve(posix.dirname(p), target), depth + 1);
  }

  isLink(path: string): boolean {
    const p = this.mapper.map(path);
    const node = this.layer.get(p);
    return node ? node.kind === 'symlink' : this.base.readlink(p) !== undefined;
  }

  /** ELF facts of the file `path` names (symlinks followed, layer first, then base). */
  elf(path: string): ElfInfo | undefined {
    const p = this.realPath(path);
    const node = this.layer.get(p);
    if (node?.kind === 'file') {
      const fd = openSync(node.host, 'r');
      try {
        return readElfInfo((off, len) => {
          const b = Buffer.alloc(len);
          return b.subarray(0, readSync(fd, b, 0, len, off));
        });
      } catch {
        return undefined;
      } finally {
        closeSync(fd);
      }
    }
    if (node?.kind === 'dir') return undefined;
    const data = this.base.readFile(p);
    if (!data) return undefined;
    try {
      return readElfInfo((off, len) => data.subarray(off, off + len));
    } catch {
      return undefined;
    }
  }

  exists(path: string): boolean {
    const p = this.mapper.map(path);
    return this.layer.has(p) || this.base.readlink(p) !== undefined || this.base.readFile(p) !== undefined;
  }

  read(path: string): string | undefined {
    const node = this.layer.get(this.mapper.map(path));
    if (node?.kind === 'file') return undefined; // ld.so.conf from a package: read below via host
    return this.base.readFile(path)?.toString('utf8');
  }
}

function globToRegExp(glob: string): RegExp {
  return new RegExp(
    `^${glob
      .replace(/[.+^${}()|\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
}

/** ld.so.conf directories in ldconfig's order (includes expanded), then the system dirs. */
function configuredDirs(ov: Overlay, readText: (p: string) => string | undefined, triplet: string): string[] {
  const dirs: string[] = [];
  const seen = new Set<string>();
  const parse = (file: string, depth: number) => {
    if (depth > 8 || seen.has(file)) return;
    seen.add(file);
    for (const raw of (readText(file) ?? '').split('\n')) {
      const line = raw.replace(/#.*$/, '').trim();
      if (!line) continue;
      const inc = /^include\s+(.+)$/.exec(line);
      if (inc) {
        for (const pat of inc[1]!.split(/\s+/)) {
          const abs = pat.startsWith('/') ? pat : posix.join(posix.dirname(file), pat);
          const re = globToRegExp(posix.basename(abs));
          for (const n of ov.list(posix.dirname(abs)))
            if (re.test(n)) parse(posix.join(posix.dirname(abs), n), depth + 1);
        }
        continue;
      }
      if (line.startsWith('/')) dirs.push(line.split(/[\s=]/)[0]!.replace(/\/+$/, ''));
    }
  };
  parse('/etc/ld.so.conf', 0);
  // ldconfig appends SLIBDIR and LIBDIR; Debian's are the multiarch ones, then the plain ones.
  dirs.push(`/lib/${triplet}`, `/usr/lib/${triplet}`, '/lib', '/usr/lib');
  return dirs;
}

export interface LdCacheResult {
  cache: LayerEntry[];
  entries: number;
  added: number;
}

/**
 * Regenerates /etc/ld.so.cache the way ldconfig would for base + layer: every lib*.so* / ld-*.so*
 * shared object in the configured directories contributes `soname → dir/soname`. The base's own
 * cache supplies its entries (no need to open every base library); new files are read from disk.
 * Missing soname links are created, as ldconfig does.
 */
export function rebuildLdCache(
  base: RootfsView,
  layer: Map<string, NewNode>,
  mapper: PathMapper,
  triplet: string,
  readLayerText: (p: string) => string | undefined,
): LdCacheResult {
  const ov = new Overlay(base, layer, mapper);
  const readText = (p: string) => readLayerText(mapper.map(p)) ?? ov.read(p);
  const baseCache = base.readFile('/etc/ld.so.cache');
  const baseEntries = baseCache ? parseLdCache(baseCache) : undefined;
  const out: CacheEntry[] = [];
  const have = new Set<string>();
  const push = (e: CacheEntry) => {
    const k = `${e.flags}|${e.soname}|${e.path}`;
    if (!have.has(k)) {
      have.add(k);
      out.push(e);
    }
  };
  baseEntries?.forEach(push);
  const links: LayerEntry[] = [];
  let added = 0;
  const scanned = new Set<string>();
  for (const dir of configuredDirs(ov, readText, triplet)) {
    const real = mapper.map(dir);
    if (scanned.has(real)) continue;
    scanned.add(real);
    const prefix = `${real}/`;
    // Without a base cache every library must be looked at; with one, only what the layer adds.
    const names = baseEntries
      ? [...layer.keys()]
          .filter((p) => p.startsWith(prefix) && !p.slice(prefix.length).includes('/'))
          .map((p) => p.slice(prefix.length))
      : ov.list(dir);
    for (const name of names.sort()) {
      if (!(name.startsWith('lib') || name.startsWith('ld-')) || !name.includes('.so')) continue;
      const info = ov.elf(`${dir}/${name}`);
      if (!info) continue;
      let soname = info.soname ?? name;
      // ldconfig keys a symlink by its own name when it points straight at the file named by the
      // soname (libLLVM-15.so → libLLVM-15.so.1); other links count as the file they resolve to.
      if (ov.isLink(`${dir}/${name}`)) {
        const realBase = posix.basename(ov.realPath(`${dir}/${name}`));
        if (realBase === soname || (realBase.endsWith('.so') && soname.startsWith(realBase))) soname = name;
      }
      if (!ov.exists(`${dir}/${soname}`)) {
        links.push({ type: 'symlink', path: `${real}/${soname}`, target: name });
        layer.set(`${real}/${soname}`, { kind: 'symlink', target: name });
      }
      const before = have.size;
      push({ flags: cacheFlags(info.is64, info.machine), soname, path: `${dir}/${soname}` });
      if (have.size > before) added++;
    }
  }
  const data = writeLdCache(out);
  return {
    cache: [
      ...links,
      {
        type: 'file',
        path: '/etc/ld.so.cache',
        size: data.length,
        mode: 0o644,
        open: async () => (await import('node:stream')).Readable.from([data]),
      },
    ],
    entries: out.length,
    added,
  };
}
