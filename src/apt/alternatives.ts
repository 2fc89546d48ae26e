import { bufferEntry, type LayerEntry } from '../layer/entry.js';
import type { AlternativeInstall } from './maintscripts.js';

/**
 * What `update-alternatives --install` leaves behind, for each alternative name: the master and
 * slave links (link → /etc/alternatives/name → chosen path) and the admin file in
 * /var/lib/dpkg/alternatives (auto mode; the highest priority wins, as update-alternatives does).
 */
export function alternativeEntries(
  installs: AlternativeInstall[],
  mapPath: (p: string) => string,
): { entries: LayerEntry[]; chosen: { name: string; link: string; path: string; pkg: string }[] } {
  const byName = new Map<string, AlternativeInstall[]>();
  for (const a of installs) byName.set(a.name, [...(byName.get(a.name) ?? []), a]);
  const entries: LayerEntry[] = [];
  const chosen: { name: string; link: string; path: string; pkg: string }[] = [];
  for (const name of [...byName.keys()].sort()) {
    const alts = byName.get(name)!.sort((x, y) => y.priority - x.priority || (x.path < y.path ? -1 : 1));
    const best = alts[0]!;
    chosen.push({ name, link: best.link, path: best.path, pkg: best.pkg });
    entries.push({ type: 'symlink', path: mapPath(best.link), target: `/etc/alternatives/${name}` });
    entries.push({ type: 'symlink', path: `/etc/alternatives/${name}`, target: best.path });
    const slaveNames = [...new Set(alts.flatMap((a) => a.slaves.map((s) => s.name)))].sort();
    for (const sn of slaveNames) {
      const s = best.slaves.find((x) => x.name === sn);
      if (!s) continue;
      entries.push({ type: 'symlink', path: mapPath(s.link), target: `/etc/alternatives/${sn}` });
      entries.push({ type: 'symlink', path: `/etc/alternatives/${sn}`, target: s.path });
    }
    let admin = `auto\n${best.link}\n`;
    for (const sn of slaveNames)
      admin += `${sn}\n${alts.flatMap((a) => a.slaves).find((x) => x.name === sn)!.link}\n`;
    admin += '\n';
    for (const a of alts) {
      admin += `${a.path}\n${a.priority}\n`;
      for (const sn of slaveNames) admin += `${a.slaves.find((x) => x.name === sn)?.path ?? ''}\n`;
    }
    admin += '\n';
    entries.push(bufferEntry(`/var/lib/dpkg/alternatives/${name}`, admin, 0o644));
  }
  return { entries, chosen };
}
