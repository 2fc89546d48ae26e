/**
 * Simple-repository client: PEP 691 JSON first, PEP 503 HTML as fallback, flat find-links pages,
 * PEP 592 yanking and PEP 658/714 metadata flags. Produces DistFile records; choosing among them is
 * the resolver's job.
 */
import { CogtsError } from '../errors.js';
import { type HttpClient, redactUrl } from './http.js';
import { normalizeName, parseWheelName, type WheelName } from './names.js';

export interface DistFile {
  filename: string;
  /** Absolute URL without fragment. */
  url: string;
  sha256?: string;
  requiresPython?: string;
  /** false, or the reason (may be ""). */
  yanked: false | string;
  /** PEP 658/714: a `<url>.metadata` file exists (with its sha256 when given). */
  metadata: false | { sha256?: string };
  /** Parsed when the file is a wheel. */
  wheel?: WheelName;
  /** Where it was listed (for messages). */
  source: string;
}

const ACCEPT =
  'application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01';

/** Files of `project` on one index; [] when the index does not know it (404). */
export async function fetchProjectFiles(
  http: HttpClient,
  indexUrl: string,
  project: string,
): Promise<DistFile[]> {
  const base = indexUrl.endsWith('/') ? indexUrl : `${indexUrl}/`;
  const pageUrl = `${base}${normalizeName(project)}/`;
  const res = await http.getText(pageUrl, ACCEPT);
  if (res.status === 404 || res.status === 410) return [];
  if (res.status !== 200)
    throw new CogtsError('E_PIP_INDEX', `index page ${redactUrl(pageUrl)} answered HTTP ${res.status}`, {
      hint: 'check --index-url',
    });
  return parseProjectPage(res.body, res.contentType, res.url || pageUrl);
}

/** Every wheel linked from a find-links page or folder. */
export async function fetchFindLinks(http: HttpClient, url: string): Promise<DistFile[]> {
  const res = await http.getText(url, 'text/html');
  if (res.status !== 200)
    throw new CogtsError('E_PIP_INDEX', `--find-links ${redactUrl(url)} answered HTTP ${res.status}`);
  return parseProjectPage(res.body, res.contentType, res.url || url);
}

export function parseProjectPage(body: string, contentType: string, pageUrl: string): DistFile[] {
  if (/json/i.test(contentType)) return parseJsonPage(body, pageUrl);
  return parseHtmlPage(body, pageUrl);
}

function splitHash(url: string): { url: string; sha256?: string } {
  const i = url.indexOf('#');
  if (i < 0) return { url };
  const frag = url.slice(i + 1);
  const m = /(?:^|&)sha256=([0-9a-fA-F]{64})/.exec(frag);
  return { url: url.slice(0, i), sha256: m?.[1]?.toLowerCase() };
}

function fileFrom(
  filename: string,
  href: string,
  pageUrl: string,
  extra: Omit<DistFile, 'filename' | 'url' | 'wheel' | 'source'>,
): DistFile {
  const abs = new URL(href, pageUrl).href;
  const { url, sha256 } = splitHash(abs);
  const f: DistFile = { filename, url, ...extra, source: redactUrl(pageUrl) };
  if (!f.sha256 && sha256) f.sha256 = sha256;
  const w = parseWheelName(filename);
  if (w) f.wheel = w;
  return f;
}

function parseJsonPage(body: string, pageUrl: string): DistFile[] {
  let doc: { meta?: { 'api-version'?: string }; files?: unknown };
  try {
    doc = JSON.parse(body);
  } catch (e) {
    throw new CogtsError(
      'E_PIP_INDEX',
      `index page ${redactUrl(pageUrl)} claims JSON but does not parse: ${(e as Error).message}`,
      { cause: e },
    );
  }
  const major = (doc.meta?.['api-version'] ?? '1.0').split('.')[0];
  if (major !== '1')
    throw new CogtsError(
      'E_PIP_INDEX',
      `index page ${redactUrl(pageUrl)} uses unsupported simple API version ${doc.meta?.['api-version']}`,
    );
  if (!Array.isArray(doc.files))
    throw new CogtsError(
      'E_PIP_INDEX',
      `index page ${redactUrl(pageUrl)} has no "files" list (not a PEP 691 response)`,
    );
  return doc.files.map((raw: Record<string, unknown>) => {
    const hashes = (raw.hashes ?? {}) as Record<string, string>;
    const meta = raw['core-metadata'] ?? raw['dist-info-metadata'];
    const yanked = raw.yanked;
    return fileFrom(String(raw.filename), String(raw.url), pageUrl, {
      sha256: hashes.sha256?.toLowerCase(),
      requiresPython:
        typeof raw['requires-python'] === 'string' ? (raw['requires-python'] as string) : undefined,
      yanked: yanked === true ? '' : typeof yanked === 'string' ? yanked : false,
      metadata:
        meta === true
          ? {}
          : meta && typeof meta === 'object'
            ? { sha256: (meta as Record<string, string>).sha256 }
            : false,
    });
  });
}

const ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  '#39': "'",
  '#x27': "'",
};
function unescapeHtml(s: string): string {
  return s.replace(/&(#?[a-z0-9]+);/gi, (m, e: string) => {
    const k = e.toLowerCase();
    if (ENTITIES[k]) return ENTITIES[k] as string;
    if (k.startsWith('#x')) return String.fromCodePoint(Number.parseInt(k.slice(2), 16));
    if (k.startsWith('#')) return String.fromCodePoint(Number(k.slice(1)));
    return m;
  });
}

function parseHtmlPage(body: string, pageUrl: string): DistFile[] {
  // A real PEP 503 page is HTML with anchors (or an empty body). Anything else is an index fault:
  // say so instead of resolving as if the project had no files.
  if (!/<\s*(a|html|body|!doctype)\b/i.test(body)) {
    const preview = body.slice(0, 80).replace(/\s+/g, ' ');
    throw new CogtsError(
      'E_PIP_INDEX',
      `index page ${redactUrl(pageUrl)} is not a PEP 503/691 page (starts with "${preview}")`,
      {
        hint: 'check that --index-url points at the /simple/ root of a package index',
      },
    );
  }
  let base = pageUrl;
  const bm = /<base\s[^>]*href\s*=\s*["']([^"']+)["']/i.exec(body);
  if (bm?.[1]) base = new URL(unescapeHtml(bm[1]), pageUrl).href;
  const out: DistFile[] = [];
  const re = /<a\s([^>]*)>([\s\S]*?)<\/a\s*>/gi;
  for (let m = re.exec(body); m; m = re.exec(body)) {
    const attrs = parseAttrs(m[1] as string);
    const href = attrs.href;
    if (!href) continue;
    const text = unescapeHtml((m[2] as string).replace(/<[^>]*>/g, '').trim());
    const fromHref = decodeURIComponent(new URL(href, base).pathname.split('/').pop() ?? '');
    const filename = fromHref || text;
    const meta = attrs['data-core-metadata'] ?? attrs['data-dist-info-metadata'];
    const yanked = attrs['data-yanked'];
    out.push(
      fileFrom(filename, href, base, {
        requiresPython: attrs['data-requires-python'] || undefined,
        yanked: yanked === undefined ? false : yanked,
        metadata:
          meta === undefined || meta === 'false'
            ? false
            : meta === 'true' || meta === ''
              ? {}
              : { sha256: /^sha256=([0-9a-f]{64})$/i.exec(meta)?.[1] },
      }),
    );
  }
  return out;
}

function parseAttrs(s: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
  for (let m = re.exec(s); m; m = re.exec(s))
    out[(m[1] as string).toLowerCase()] = unescapeHtml(m[2] ?? m[3] ?? m[4] ?? '');
  return out;
}
