/**
 * A real package index on 127.0.0.1 for tests and benchmarks: PEP 691 JSON or PEP 503 HTML pages,
 * optional PEP 658 `.metadata` files, PEP 592 yanking, data-requires-python, HTTP Range on files,
 * ETag revalidation, optional basic auth, and a "garbage" mode for broken-index errors. It serves a
 * folder of wheels built by the test (fixtures/wheels/make_wheels.py) plus declared sdist names.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fixturesDir } from './paths.js';

export interface PyIndexOptions {
  dir: string;
  flavour: 'json' | 'html';
  pep658?: boolean;
  ranges?: boolean;
  yanked?: Record<string, string>;
  /** filename → data-requires-python. */
  requiresPython?: Record<string, string>;
  /** Extra listed (non-existent) file names, e.g. sdists, per project. */
  extraFiles?: Record<string, string[]>;
  /** Projects whose page is junk. */
  garbage?: string[];
  /** Basic-auth "user:pass" required on every request. */
  auth?: string;
  /** Leave hashes out of the listing (forces the client to compute them). */
  noHashes?: boolean;
}

export interface PyIndex {
  url: string;
  /** Root of file URLs (…/files/). */
  filesUrl: string;
  requests: { method: string; url: string; range?: string; status: number }[];
  close(): Promise<void>;
}

const norm = (n: string) => n.toLowerCase().replace(/[-_.]+/g, '-');
const projectOf = (f: string) => norm(f.split('-')[0] as string);

export async function startPyIndex(o: PyIndexOptions): Promise<PyIndex> {
  const files = readdirSync(o.dir).filter((f) => f.endsWith('.whl'));
  const sha = new Map<string, string>();
  const shaOf = (f: string) => {
    let h = sha.get(f);
    if (!h) {
      h = createHash('sha256')
        .update(readFileSync(join(o.dir, f)))
        .digest('hex');
      sha.set(f, h);
    }
    return h;
  };
  const metaCache = new Map<string, Buffer>();
  const metadataOf = (f: string): Buffer => {
    const hit = metaCache.get(f);
    if (hit) return hit;
    // Read the METADATA member with Python's zipfile: an independent reader from the one under test.
    const r = spawnSync('python3', [
      '-c',
      'import sys,zipfile;z=zipfile.ZipFile(sys.argv[1]);n=[x for x in z.namelist() if x.endswith(".dist-info/METADATA")][0];sys.stdout.buffer.write(z.read(n))',
      join(o.dir, f),
    ]);
    if (r.status !== 0) throw new Error(`cannot read METADATA of ${f}: ${r.stderr}`);
    metaCache.set(f, r.stdout);
    return r.stdout;
  };
  const requests: PyIndex['requests'] = [];
  const projects = new Map<string, string[]>();
  for (const f of files) projects.set(projectOf(f), [...(projects.get(projectOf(f)) ?? []), f]);
  for (const [p, extra] of Object.entries(o.extraFiles ?? {}))
    projects.set(norm(p), [...(projects.get(norm(p)) ?? []), ...extra]);

  const send = (
    res: ServerResponse,
    req: IncomingMessage,
    status: number,
    type: string,
    body: string | Buffer,
  ) => {
    const buf = typeof body === 'string' ? Buffer.from(body) : body;
    const etag = `"${createHash('sha1').update(buf).digest('hex')}"`;
    if (status === 200 && req.headers['if-none-match'] === etag) {
      res.writeHead(304, { etag }).end();
      return 304;
    }
    res.writeHead(status, { 'content-type': type, 'content-length': buf.length, etag });
    res.end(req.method === 'HEAD' ? undefined : buf);
    return status;
  };

  const handle = (req: IncomingMessage, res: ServerResponse): number => {
    if (o.auth && req.headers.authorization !== `Basic ${Buffer.from(o.auth).toString('base64')}`) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="test"' }).end();
      return 401;
    }
    const u = new URL(req.url ?? '/', 'http://x');
    const parts = u.pathname.split('/').filter(Boolean);
    if (parts[0] === 'simple' && parts.length === 1) {
      return send(
        res,
        req,
        200,
        'text/html',
        `<!DOCTYPE html><html><body>${[...projects.keys()].map((p) => `<a href="${p}/">${p}</a>`).join('\n')}</body></html>`,
      );
    }
    if (parts[0] === 'simple' && parts.length === 2) {
      const p = norm(parts[1] as string);
      if (o.garbage?.includes(p))
        return send(res, req, 200, 'text/plain', 'upstream connect error or disconnect/reset before headers');
      const list = projects.get(p);
      if (!list || parts[1] !== p) return send(res, req, 404, 'text/plain', 'not found');
      const wantsJson =
        o.flavour === 'json' && /application\/vnd\.pypi\.simple\.v1\+json/.test(req.headers.accept ?? '');
      const entries = list.sort().map((f) => {
        const real = files.includes(f);
        return {
          f,
          real,
          hash: real && !o.noHashes ? shaOf(f) : undefined,
          meta: real && o.pep658 ? createHash('sha256').update(metadataOf(f)).digest('hex') : undefined,
        };
      });
      if (wantsJson) {
        const doc = {
          meta: { 'api-version': '1.1' },
          name: p,
          files: entries.map((e) => ({
            filename: e.f,
            url: `../../files/${e.f}`,
            hashes: e.hash ? { sha256: e.hash } : {},
            'requires-python': o.requiresPython?.[e.f] ?? null,
            yanked: o.yanked?.[e.f] === undefined ? false : o.yanked[e.f] || true,
            ...(e.meta ? { 'core-metadata': { sha256: e.meta } } : {}),
          })),
        };
        return send(res, req, 200, 'application/vnd.pypi.simple.v1+json', JSON.stringify(doc));
      }
      const esc = (s: string) =>
        s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
      const links = entries.map((e) => {
        let a = `<a href="../../files/${e.f}${e.hash ? `#sha256=${e.hash}` : ''}"`;
        if (o.requiresPython?.[e.f]) a += ` data-requires-python="${esc(o.requiresPython[e.f] as string)}"`;
        if (o.yanked?.[e.f] !== undefined) a += ` data-yanked="${esc(o.yanked[e.f] as string)}"`;
        if (e.meta) a += ` data-dist-info-metadata="sha256=${e.meta}" data-core-metadata="sha256=${e.meta}"`;
        return `${a}>${e.f}</a><br/>`;
      });
      return send(
        res,
        req,
        200,
        'text/html',
        `<!DOCTYPE html><html><head><meta name="pypi:repository-version" content="1.1"></head><body><h1>Links for ${p}</h1>\n${links.join('\n')}\n</body></html>`,
      );
    }
    if (parts[0] === 'files' && parts.length === 2) {
      let f = decodeURIComponent(parts[1] as string);
      const isMeta = f.endsWith('.metadata');
      if (isMeta) f = f.slice(0, -9);
      if (!files.includes(f) || (isMeta && !o.pep658))
        return send(res, req, 404, 'text/plain', 'no such file');
      if (isMeta) return send(res, req, 200, 'application/octet-stream', metadataOf(f));
      const path = join(o.dir, f);
      const size = statSync(path).size;
      const range = req.headers.range;
      if (range && o.ranges !== false) {
        const m = /^bytes=(\d*)-(\d*)$/.exec(range);
        if (m) {
          let start = m[1] ? Number(m[1]) : size - Number(m[2]);
          let end = m[1] && m[2] ? Number(m[2]) : size - 1;
          start = Math.max(0, start);
          end = Math.min(end, size - 1);
          const data = readFileSync(path).subarray(start, end + 1);
          res.writeHead(206, {
            'content-type': 'application/octet-stream',
            'content-range': `bytes ${start}-${end}/${size}`,
            'content-length': data.length,
            'accept-ranges': 'bytes',
          });
          res.end(data);
          return 206;
        }
      }
      if (o.ranges !== false) res.setHeader('accept-ranges', 'bytes');
      return send(res, req, 200, 'application/octet-stream', readFileSync(path));
    }
    return send(res, req, 404, 'text/plain', 'not found');
  };

  const server: Server = createServer((req, res) => {
    const entry = { method: req.method ?? 'GET', url: req.url ?? '', range: req.headers.range, status: 0 };
    requests.push(entry);
    try {
      entry.status = handle(req, res);
    } catch (e) {
      entry.status = 500;
      res.writeHead(500).end(String(e));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/simple/`,
    filesUrl: `http://127.0.0.1:${port}/files/`,
    requests,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** Build the recipe wheels (cached per process run in a temp dir) and return their folder. */
export function buildFixtureWheels(outDir: string, args: string[] = []): string[] {
  const r = spawnSync('python3', [join(fixturesDir, 'wheels', 'make_wheels.py'), outDir, ...args], {
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`make_wheels.py failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}
