/**
 * One HTTP layer for index pages, metadata, range reads and wheel downloads: undici fetch with
 * credentials (from the URL or netrc, applied per host), file:// support for local indexes and
 * find-links folders, and a revalidating response cache under <cacheDir>/http.
 */

import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { Agent, fetch } from 'undici';
import { atomicWrite } from '../atomic-write.js';
import { CogtsError } from '../errors.js';

export interface HttpOptions {
  cacheDir: string;
  /** netrc file; default $NETRC or ~/.netrc. */
  netrcPath?: string;
}

export interface TextResponse {
  url: string;
  status: number;
  contentType: string;
  body: string;
  fromCache: boolean;
}

type Creds = { user: string; pass: string };

export function redactUrl(url: string): string {
  return url.replace(/\/\/[^/@]*@/, '//***@');
}

export class HttpClient {
  private readonly agent = new Agent({ connections: 16, keepAliveTimeout: 10_000 });
  private readonly hostCreds = new Map<string, Creds>();
  private netrc: Promise<Map<string, Creds>> | undefined;
  /** Counts for benchmarks/tests: how many requests went out, how many bodies came from cache. */
  readonly stats = { requests: 0, notModified: 0, downloads: 0, bytes: 0 };

  constructor(readonly opts: HttpOptions) {}

  /** Remember credentials embedded in an index URL so that file URLs on the same host get them too. */
  registerUrl(url: string): string {
    try {
      const u = new URL(url);
      if (u.username) {
        this.hostCreds.set(u.host, {
          user: decodeURIComponent(u.username),
          pass: decodeURIComponent(u.password),
        });
        u.username = '';
        u.password = '';
        return u.href;
      }
    } catch {
      /* not a URL: left for the caller to report */
    }
    return url;
  }

  private async authHeader(url: URL): Promise<Record<string, string>> {
    let c = this.hostCreds.get(url.host);
    if (url.username) c = { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) };
    if (!c) c = (await this.loadNetrc()).get(url.hostname) ?? (await this.loadNetrc()).get('');
    return c ? { authorization: `Basic ${Buffer.from(`${c.user}:${c.pass}`).toString('base64')}` } : {};
  }

  private loadNetrc(): Promise<Map<string, Creds>> {
    this.netrc ??= (async () => {
      const path = this.opts.netrcPath ?? process.env.NETRC ?? join(homedir(), '.netrc');
      const map = new Map<string, Creds>();
      let text: string;
      try {
        text = await readFile(path, 'utf8');
      } catch {
        return map;
      }
      const toks = text.split(/\s+/).filter(Boolean);
      let host: string | undefined;
      let cur: Creds = { user: '', pass: '' };
      const flush = () => {
        if (host !== undefined) map.set(host, cur);
      };
      for (let i = 0; i < toks.length; i++) {
        const t = toks[i];
        if (t === 'machine' || t === 'default') {
          flush();
          host = t === 'default' ? '' : (toks[++i] ?? '');
          cur = { user: '', pass: '' };
        } else if (t === 'login') cur.user = toks[++i] ?? '';
        else if (t === 'password') cur.pass = toks[++i] ?? '';
      }
      flush();
      return map;
    })();
    return this.netrc;
  }

  private async doFetch(url: string, headers: Record<string, string>) {
    const u = new URL(url);
    const clean = new URL(url);
    clean.username = '';
    clean.password = '';
    this.stats.requests++;
    try {
      return await fetch(clean.href, {
        headers: { ...headers, ...(await this.authHeader(u)) },
        dispatcher: this.agent,
      });
    } catch (e) {
      throw new CogtsError('E_PIP_HTTP', `request to ${redactUrl(url)} failed: ${(e as Error).message}`, {
        cause: e,
        hint: 'check --index-url and that the index is reachable',
      });
    }
  }

  /**
   * GET a small text resource (index page, metadata). Cached with ETag/Last-Modified revalidation.
   * Returns status 404 for a missing project instead of throwing (other indexes may have it).
   */
  async getText(url: string, accept: string): Promise<TextResponse> {
    if (url.startsWith('file:')) return this.getFileText(url);
    const key = createHash('sha256').update(`${accept}\n${url}`).digest('hex');
    const cachePath = join(this.opts.cacheDir, 'http', key.slice(0, 2), `${key}.json`);
    let cached:
      | { etag?: string; lastModified?: string; contentType: string; body: string; url: string }
      | undefined;
    try {
      cached = JSON.parse(await readFile(cachePath, 'utf8'));
    } catch {
      cached = undefined;
    }
    const headers: Record<string, string> = { accept };
    if (cached?.etag) headers['if-none-match'] = cached.etag;
    if (cached?.lastModified) headers['if-modified-since'] = cached.lastModified;
    const res = await this.doFetch(url, headers);
    if (res.status === 304 && cached) {
      this.stats.notModified++;
      await res.body?.cancel();
      return {
        url: cached.url,
        status: 200,
        contentType: cached.contentType,
        body: cached.body,
        fromCache: true,
      };
    }
    const body = await res.text();
    if (res.status === 401 || res.status === 403) {
      throw new CogtsError('E_PIP_AUTH', `${redactUrl(url)} answered ${res.status}`, {
        hint: 'put credentials in the index URL (https://user:token@host/simple) or in ~/.netrc',
      });
    }
    const contentType = res.headers.get('content-type') ?? '';
    if (res.status === 200) {
      const entry = {
        etag: res.headers.get('etag') ?? undefined,
        lastModified: res.headers.get('last-modified') ?? undefined,
        contentType,
        body,
        url: res.url || url,
      };
      if (entry.etag || entry.lastModified) await atomicWrite(cachePath, JSON.stringify(entry));
    }
    return { url: res.url || url, status: res.status, contentType, body, fromCache: false };
  }

  private async getFileText(url: string): Promise<TextResponse> {
    const path = fileURLToPath(url);
    try {
      const st = await stat(path);
      if (st.isDirectory()) {
        try {
          return {
            url,
            status: 200,
            contentType: 'text/html',
            body: await readFile(join(path, 'index.html'), 'utf8'),
            fromCache: false,
          };
        } catch {
          // A plain folder of wheels (find-links): synthesise a flat page.
          const names = (await readdir(path)).sort();
          const links = names.map((n) => `<a href="${encodeURIComponent(n)}">${n}</a>`).join('\n');
          return {
            url: url.endsWith('/') ? url : `${url}/`,
            status: 200,
            contentType: 'text/html',
            body: `<html><body>${links}</body></html>`,
            fromCache: false,
          };
        }
      }
      return {
        url,
        status: 200,
        contentType: url.endsWith('.json') ? 'application/json' : 'text/html',
        body: await readFile(path, 'utf8'),
        fromCache: false,
      };
    } catch {
      return { url, status: 404, contentType: '', body: '', fromCache: false };
    }
  }

  /** Bytes [start, end] (inclusive) or, with start < 0, the last -start bytes. undefined = no range support. */
  async getRange(
    url: string,
    start: number,
    end?: number,
  ): Promise<{ data: Buffer; total: number } | undefined> {
    if (url.startsWith('file:') || !(await this.rangesSupported(url))) return undefined;
    const range = start < 0 ? `bytes=${start}` : `bytes=${start}-${end ?? ''}`;
    const res = await this.doFetch(url, { range, 'accept-encoding': 'identity' });
    if (res.status !== 206) {
      await res.body?.cancel();
      return undefined;
    }
    const cr = /\/(\d+)$/.exec(res.headers.get('content-range') ?? '');
    const data = Buffer.from(await res.arrayBuffer());
    this.stats.bytes += data.length;
    return { data, total: cr ? Number(cr[1]) : -1 };
  }

  private readonly rangeOrigins = new Map<string, Promise<boolean>>();

  /**
   * One HEAD per origin: does it advertise `Accept-Ranges: bytes`? Asking with a Range GET instead and
   * abandoning a 200 body trips undici on close-delimited HTTP/1.0 servers (python -m http.server).
   */
  private rangesSupported(url: string): Promise<boolean> {
    const origin = new URL(url).origin;
    let p = this.rangeOrigins.get(origin);
    if (!p) {
      p = (async () => {
        const u = new URL(url);
        const clean = new URL(url);
        clean.username = '';
        clean.password = '';
        this.stats.requests++;
        try {
          const res = await fetch(clean.href, {
            method: 'HEAD',
            headers: await this.authHeader(u),
            dispatcher: this.agent,
          });
          await res.arrayBuffer();
          return res.ok && /bytes/i.test(res.headers.get('accept-ranges') ?? '');
        } catch {
          return false;
        }
      })();
      this.rangeOrigins.set(origin, p);
    }
    return p;
  }

  /**
   * Download `url` to `dest` (atomically), hashing on the way; checks the sha256 when one is known.
   * Returns the hex sha256. Memory stays bounded whatever the size.
   */
  async download(
    url: string,
    dest: string,
    expectSha256?: string[],
  ): Promise<{ sha256: string; size: number }> {
    await mkdir(dirname(dest), { recursive: true });
    const tmp = `${dest}.part-${process.pid}-${Math.random().toString(36).slice(2)}`;
    const hash = createHash('sha256');
    let size = 0;
    let src: Readable;
    if (url.startsWith('file:')) {
      src = createReadStream(fileURLToPath(url));
    } else {
      src = await this.nodeGet(url);
      this.stats.downloads++;
    }
    src.on('data', (c: Buffer) => {
      hash.update(c);
      size += c.length;
    });
    try {
      await pipeline(src, createWriteStream(tmp));
    } catch (e) {
      await rm(tmp, { force: true });
      throw new CogtsError('E_PIP_HTTP', `download of ${redactUrl(url)} failed: ${(e as Error).message}`, {
        cause: e,
      });
    }
    this.stats.bytes += size;
    const sha256 = hash.digest('hex');
    if (expectSha256?.length && !expectSha256.includes(sha256)) {
      await rm(tmp, { force: true });
      throw new CogtsError(
        'E_PIP_HASH_MISMATCH',
        `hash mismatch for ${redactUrl(url)}: expected sha256 ${expectSha256.join(' or ')}, got ${sha256}`,
        {
          hint: 'the file changed on the index or the --hash / lock entry is wrong; re-lock only if you trust the new file',
        },
      );
    }
    await rename(tmp, dest);
    return { sha256, size };
  }

  /**
   * Large bodies go through node:http(s), not undici: undici 7 (≤ 7.30.2) crashes with an uncatchable
   * assertion when an HTTP/1.0 server (python -m http.server, the documented way to serve the local
   * wheel store) closes the socket while the body is paused by backpressure (nodejs/undici#5360,
   * fixed only in later majors). Node's client pauses the socket instead, keeping memory bounded.
   */
  private async nodeGet(url: string, redirects = 5): Promise<Readable> {
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? await import('node:https') : await import('node:http');
    const headers = await this.authHeader(u);
    const res = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
      const req = mod.get(
        {
          protocol: u.protocol,
          hostname: u.hostname,
          port: u.port,
          path: `${u.pathname}${u.search}`,
          headers,
        },
        resolve,
      );
      req.on('error', (e) =>
        reject(
          new CogtsError('E_PIP_HTTP', `download of ${redactUrl(url)} failed: ${e.message}`, { cause: e }),
        ),
      );
    });
    this.stats.requests++;
    const status = res.statusCode ?? 0;
    if (status >= 300 && status < 400 && res.headers.location && redirects > 0) {
      res.resume();
      return this.nodeGet(new URL(res.headers.location, url).href, redirects - 1);
    }
    if (status !== 200) {
      res.resume();
      throw new CogtsError(
        status === 401 || status === 403 ? 'E_PIP_AUTH' : 'E_PIP_HTTP',
        `download of ${redactUrl(url)} answered ${status}`,
      );
    }
    return res;
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
