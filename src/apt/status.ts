import { field, parseStanzas, type Stanza } from './deb822.js';
import { parseRelations } from './relations.js';

/** One package the base image's dpkg database says is installed. */
export interface InstalledPackage {
  name: string;
  version: string;
  arch: string;
  multiArch?: string;
  /** Provides entries as (name, version?) pairs. */
  provides: { name: string; version?: string }[];
  stanza: Stanza;
}

/** Parses /var/lib/dpkg/status, keeping only packages whose state is "installed". */
export function parseStatus(text: string): Map<string, InstalledPackage> {
  const out = new Map<string, InstalledPackage>();
  for (const st of parseStanzas(text)) {
    const name = field(st, 'Package');
    const version = field(st, 'Version');
    const status = (field(st, 'Status') ?? '').split(/\s+/);
    if (!name || !version || status[2] !== 'installed') continue;
    const p: InstalledPackage = {
      name,
      version,
      arch: field(st, 'Architecture') ?? 'all',
      provides: parseRelations(field(st, 'Provides')?.replace(/\n/g, ' '), `status of ${name}`).flatMap((g) =>
        g.map((a) => (a.version ? { name: a.name, version: a.version } : { name: a.name })),
      ),
      stanza: st,
    };
    const ma = field(st, 'Multi-Arch');
    if (ma) p.multiArch = ma;
    out.set(name, p);
  }
  return out;
}

/** The dpkg architecture of a base: the Architecture of its installed `dpkg` package. */
export function nativeArch(status: Map<string, InstalledPackage>): string | undefined {
  return status.get('dpkg')?.arch;
}
