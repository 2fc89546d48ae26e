import { CogtsError } from '../errors.js';
import { field, parseStanzas } from './deb822.js';
import type { AptSource, RootfsView } from './types.js';

/** `deb [opts] uri suite [component...]` lines of sources.list(5); deb-src and comments skipped. */
export function parseSourcesList(text: string, origin: string): AptSource[] {
  const out: AptSource[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') return;
    const where = `${origin}:${i + 1}`;
    const m = /^(deb|deb-src)\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)(.*)$/.exec(line);
    if (!m) throw new CogtsError('E_APT_SOURCES', `cannot parse sources.list line ${where}: "${line}"`);
    if (m[1] === 'deb-src') return;
    const opts = new Map<string, string>();
    for (const kv of (m[2] ?? '').trim().split(/\s+/).filter(Boolean)) {
      const eq = kv.indexOf('=');
      if (eq > 0) opts.set(kv.slice(0, eq).toLowerCase(), kv.slice(eq + 1));
    }
    out.push(
      makeSource(
        m[3]!,
        m[4]!,
        (m[5] ?? '').trim().split(/\s+/).filter(Boolean),
        opts.get('arch'),
        opts.get('signed-by'),
        where,
      ),
    );
  });
  return out;
}

/** deb822 `.sources` files (sources.list(5) "DEB822-STYLE FORMAT"); `Enabled: no` stanzas skipped. */
export function parseDeb822Sources(text: string, origin: string): AptSource[] {
  const out: AptSource[] = [];
  parseStanzas(text, { comments: true }).forEach((st, i) => {
    const where = `${origin} (stanza ${i + 1})`;
    if ((field(st, 'Enabled') ?? 'yes').toLowerCase() === 'no') return;
    const types = (field(st, 'Types') ?? '').split(/\s+/).filter(Boolean);
    if (!types.includes('deb')) return;
    const uris = (field(st, 'URIs') ?? '').split(/\s+/).filter(Boolean);
    const suites = (field(st, 'Suites') ?? '').split(/\s+/).filter(Boolean);
    if (uris.length === 0 || suites.length === 0)
      throw new CogtsError('E_APT_SOURCES', `${where}: needs URIs and Suites`);
    const comps = (field(st, 'Components') ?? '').split(/\s+/).filter(Boolean);
    const signedBy = field(st, 'Signed-By');
    for (const uri of uris)
      for (const suite of suites)
        out.push(
          makeSource(uri, suite, comps, field(st, 'Architectures')?.replace(/\s+/g, ','), signedBy, where),
        );
  });
  return out;
}

function makeSource(
  uri: string,
  suite: string,
  components: string[],
  arch: string | undefined,
  signedBy: string | undefined,
  origin: string,
): AptSource {
  const flat = suite.endsWith('/');
  if (flat && components.length > 0)
    throw new CogtsError(
      'E_APT_SOURCES',
      `${origin}: a flat repository suite ("${suite}") takes no components`,
    );
  if (!flat && components.length === 0)
    throw new CogtsError('E_APT_SOURCES', `${origin}: suite "${suite}" needs at least one component`);
  const s: AptSource = { uri: uri.replace(/\/+$/, ''), suite, components, origin };
  if (arch) s.architectures = arch.split(',').filter(Boolean);
  if (signedBy) {
    const v = signedBy.trim();
    // An inline key block (deb822 only) versus one or more keyring paths / fingerprints.
    if (v.includes('BEGIN PGP PUBLIC KEY BLOCK')) s.signedByInline = v.replace(/^\.$/gm, '');
    else s.signedBy = v.split(/[\s,]+/)[0];
  }
  return s;
}

/** Reads /etc/apt/sources.list and /etc/apt/sources.list.d/*.{list,sources} from a rootfs. */
export function readSources(view: RootfsView): AptSource[] {
  const out: AptSource[] = [];
  const main = view.readFile('/etc/apt/sources.list');
  if (main) out.push(...parseSourcesList(main.toString('utf8'), '/etc/apt/sources.list'));
  for (const name of view.list('/etc/apt/sources.list.d')) {
    const p = `/etc/apt/sources.list.d/${name}`;
    const data = name.endsWith('.list') || name.endsWith('.sources') ? view.readFile(p) : undefined;
    if (!data) continue;
    out.push(
      ...(name.endsWith('.list')
        ? parseSourcesList(data.toString('utf8'), p)
        : parseDeb822Sources(data.toString('utf8'), p)),
    );
  }
  return out;
}

/** A parsed `--apt-mirror`: a bare URL replaces every source's host+path; FROM=TO replaces a prefix. */
export interface MirrorRule {
  from?: string;
  to: string;
}

export function parseMirror(spec: string): MirrorRule {
  const eq = spec.indexOf('=');
  const rule: MirrorRule =
    eq > 0 ? { from: spec.slice(0, eq).replace(/\/+$/, ''), to: spec.slice(eq + 1) } : { to: spec };
  rule.to = rule.to.replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]/.test(rule.to))
    throw new CogtsError('E_APT_MIRROR', `--apt-mirror "${spec}": the mirror must be an http(s) URL`, {
      hint: 'use --apt-mirror http://mirror/debian or --apt-mirror http://deb.debian.org/debian=http://mirror/debian',
    });
  return rule;
}

/**
 * Applies mirror rules, first match wins. FROM=TO replaces the URI prefix FROM. A bare URL replaces
 * only the origin (scheme://host:port) of every source and prefixes its own path, so one mirror can
 * serve several archives side by side (`http://m/debian`, `http://m/debian-security`).
 */
export function applyMirrors(sources: AptSource[], rules: MirrorRule[]): AptSource[] {
  return sources.map((s) => {
    for (const r of rules) {
      if (r.from === undefined) return { ...s, uri: r.to + new URL(s.uri).pathname.replace(/\/+$/, '') };
      if (s.uri === r.from || s.uri.startsWith(`${r.from}/`))
        return { ...s, uri: r.to + s.uri.slice(r.from.length) };
    }
    return s;
  });
}
