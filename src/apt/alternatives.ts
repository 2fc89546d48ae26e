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
  baseAdmin: (name: string) => string | undefined = () => undefined,
): { entries: LayerEntry[]; chosen: { name: string; link: string; path: string; pkg: string }[] } {
  const byName = new Map<string, AlternativeInstall[]>();
  for (const a of installs) byName.set(a.name, [...(byName.get(a.name) ?? []), a]);
  // Choices the base already registered stay candidates (update-alternatives merges, too).
  for (const name of byName.keys()) {
    const text = baseAdmin(name);
    const known = new Set(byName.get(name)!.map((a) => a.path));
    if (text) for (const a of parseAdmin(name, text)) if (!known.has(a.path)) byName.get(name)!.push(a);
  }
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

/**
 * Reads an update-alternatives admin file (`/var/lib/dpkg/alternatives/<name>`): mode, master link,
 * slave (name, link) pairs up to a blank line, then per choice its path, priority and slave paths.
 */
export function parseAdmin(name: string, text: string): AlternativeInstall[] {
  const lines = text.split('\n');
  let i = 2;
  const link = lines[1] ?? '';
  const slaves: { name: string; link: string }[] = [];
  while (i < lines.length && lines[i] !== '') {
    slaves.push({ name: lines[i]!, link: lines[i + 1] ?? '' });
    i += 2;
  }
  i++;
  const out: AlternativeInstall[] = [];
  while (i < lines.length && lines[i] !== '') {
    const path = lines[i]!;
    const priority = Number(lines[i + 1]);
    const sl = slaves.map((s, k) => ({ ...s, path: lines[i + 2 + k] ?? '' })).filter((s) => s.path !== '');
    out.push({
      link,
      name,
      path,
      priority: Number.isFinite(priority) ? priority : 0,
      slaves: sl,
      pkg: '(base image)',
    });
    i += 2 + slaves.length;
  }
  return out;
}
