import { bufferEntry, type LayerEntry } from '../layer/entry.js';
import type { StagedDeb } from './deb.js';
import { field, formatStanza, parseStanzas, type Stanza } from './deb822.js';

/** Members of control.tar that dpkg keeps in /var/lib/dpkg/info (dpkg(1) "FILES"). */
const INFO_MEMBERS = [
  'conffiles',
  'md5sums',
  'preinst',
  'postinst',
  'prerm',
  'postrm',
  'triggers',
  'shlibs',
  'symbols',
  'templates',
  'config',
];
const SCRIPTS = new Set(['preinst', 'postinst', 'prerm', 'postrm', 'config']);

/** dpkg's info-file stem: `pkg` or, for Multi-Arch: same packages, `pkg:arch`. */
export function infoName(control: Stanza): string {
  const name = field(control, 'Package')!;
  return field(control, 'Multi-Arch') === 'same' ? `${name}:${field(control, 'Architecture')}` : name;
}

/** The status stanza dpkg writes after a successful install: control fields + Status (+ Conffiles). */
export function statusStanza(deb: StagedDeb): Stanza {
  const control = parseStanzas(deb.control.control ?? '')[0] ?? new Map<string, string>();
  const out: Stanza = new Map();
  out.set('Package', field(control, 'Package') ?? '');
  out.set('Status', 'install ok installed');
  const conffiles = (deb.control.conffiles ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.startsWith('/'));
  for (const [k, v] of control) {
    if (k === 'Package') continue;
    // dpkg places Conffiles right before Description.
    if (k === 'Description' && conffiles.length)
      out.set('Conffiles', `\n${conffiles.map((c) => `${c} ${deb.md5[c] ?? 'newconffile'}`).join('\n')}`);
    out.set(k, v);
  }
  return out;
}

/**
 * The new /var/lib/dpkg/status (base stanzas, with upgraded packages replaced, plus the new ones,
 * sorted by name for determinism) and each package's info files.
 */
export function dpkgDatabase(baseStatus: string, debs: StagedDeb[]): LayerEntry[] {
  const byName = new Map<string, Stanza>();
  for (const st of parseStanzas(baseStatus)) {
    const n = field(st, 'Package');
    if (n) byName.set(`${n}:${field(st, 'Architecture') ?? ''}`, st);
  }
  const entries: LayerEntry[] = [];
  for (const deb of debs) {
    const st = statusStanza(deb);
    const arch = field(st, 'Architecture') ?? '';
    const name = field(st, 'Package')!;
    // An upgrade replaces the base's stanza (same name; arch all ↔ native counts as the same package).
    for (const key of [...byName.keys()])
      if (key.startsWith(`${name}:`) && (field(st, 'Multi-Arch') !== 'same' || key === `${name}:${arch}`))
        byName.delete(key);
    byName.set(`${name}:${arch}`, st);
    const stem = infoName(st);
    const list = ['/.', ...deb.entries.map((e) => e.path)].join('\n');
    entries.push(bufferEntry(`/var/lib/dpkg/info/${stem}.list`, `${list}\n`, 0o644));
    for (const m of INFO_MEMBERS) {
      const text = deb.control[m];
      if (text !== undefined)
        entries.push(bufferEntry(`/var/lib/dpkg/info/${stem}.${m}`, text, SCRIPTS.has(m) ? 0o755 : 0o644));
    }
  }
  const keys = [...byName.keys()].sort();
  const status = keys.map((k) => formatStanza(byName.get(k)!)).join('\n');
  entries.push(bufferEntry('/var/lib/dpkg/status', status, 0o644));
  return entries;
}
