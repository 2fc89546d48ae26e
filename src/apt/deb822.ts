/**
 * RFC822-style control stanzas as Debian uses them (Packages, Release, dpkg status, .sources):
 * `Field: value`, continuation lines start with space/tab, stanzas are separated by blank lines,
 * `#` lines are comments only in .sources files (callers opt in).
 */

/** One stanza: field names keep their spelling; look-ups should go through `field()`. */
export type Stanza = Map<string, string>;

export function parseStanzas(text: string, opts: { comments?: boolean } = {}): Stanza[] {
  const out: Stanza[] = [];
  let cur: Stanza | undefined;
  let last: string | undefined;
  for (const line of text.split('\n')) {
    if (opts.comments && line.startsWith('#')) continue;
    if (line.trim() === '') {
      if (cur && cur.size > 0) out.push(cur);
      cur = undefined;
      last = undefined;
      continue;
    }
    if ((line[0] === ' ' || line[0] === '\t') && cur && last !== undefined) {
      cur.set(last, `${cur.get(last)}\n${line.slice(1)}`);
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    cur ??= new Map();
    last = line.slice(0, colon);
    cur.set(last, line.slice(colon + 1).trim());
  }
  if (cur && cur.size > 0) out.push(cur);
  return out;
}

/** Case-insensitive field look-up (deb822 field names are case-insensitive). */
export function field(s: Stanza, name: string): string | undefined {
  const v = s.get(name);
  if (v !== undefined) return v;
  const lower = name.toLowerCase();
  for (const [k, val] of s) if (k.toLowerCase() === lower) return val;
  return undefined;
}

/** Serialises a stanza back, preserving multi-line values (continuation lines get a leading space). */
export function formatStanza(s: Stanza): string {
  let out = '';
  for (const [k, v] of s) {
    const lines = v.split('\n');
    out += lines[0] ? `${k}: ${lines[0]}\n` : `${k}:\n`;
    for (const l of lines.slice(1)) out += ` ${l}\n`;
  }
  return out;
}
