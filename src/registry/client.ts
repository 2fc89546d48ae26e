import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { Readable } from 'node:stream';
import { Agent, type Dispatcher, request } from 'undici';
import { CogtsError } from '../errors.js';
import { type Challenge, parseChallenge } from './challenge.js';
import { type CredentialLookup, type Credentials, dockerConfigCredentials } from './credentials.js';
import { type Endpoint, type EndpointOptions, resolveEndpoint } from './endpoint.js';
import { header, isTlsOnPlainHttp, redact, responseError } from './response.js';
import {
  backoffMs,
  DEFAULT_RETRY,
  isTransientNetworkError,
  RETRYABLE_STATUS,
  type RetryPolicy,
  sleep,
} from './retry.js';

export interface RegistryOptions extends EndpointOptions {
  /** Where credentials come from; default the Docker/podman config files and helpers. */
  credentials?: CredentialLookup;
  retry?: Partial<RetryPolicy>;
  /** host → IP, like curl --resolve (tests name a registry that is not loopback). */
  resolve?: Readonly<Record<string, string>>;
  userAgent?: string;
  /** Blobs larger than this are uploaded in chunks (default 128 MiB). */
  chunkThreshold?: number;
  /** Chunk size for chunked uploads (default 64 MiB; raised to the registry's OCI-Chunk-Min-Length). */
  chunkSize?: number;
}

export type Body = Buffer | string | (() => Promise<Readable>);

export interface RequestSpec {
  method: 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  /** Path below the endpoint (`/v2/...`) or an absolute URL (upload Location). */
  path: string;
  /** Repository the request is about, and the actions it needs (for the token scope). */
  repository?: string;
  actions?: string;
  /** Extra scopes, e.g. `repository:other:pull` for a cross-repository mount. */
  extraScopes?: string[];
  headers?: Record<string, string>;
  body?: Body;
  /** Statuses that are a successful answer; anything else becomes an error (after retries). */
  expect: number[];
  /** Disable retries (callers that resume themselves, e.g. upload chunks). */
  noRetry?: boolean;
}

export interface Response {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Dispatcher.ResponseData['body'];
  url: string;
}

/**
 * A client for one registry (distribution API v2). Knows nothing of images: it authenticates,
 * retries and maps errors; manifests.ts and blobs.ts build the API on top of `send`.
 */
export { header, responseError } from './response.js';

export class RegistryClient {
  readonly registry: string;
  readonly endpoint: Endpoint;
  readonly options: RegistryOptions;
  readonly retry: RetryPolicy;
  private readonly agent: Agent;
  private readonly credentials: CredentialLookup;
  private pinged: Promise<Challenge | undefined> | undefined;
  private readonly tokens = new Map<string, Promise<string>>();
  private creds: Promise<Credentials | undefined> | undefined;

  constructor(registry: string, options: RegistryOptions = {}) {
    this.registry = registry;
    this.options = options;
    this.endpoint = resolveEndpoint(registry, options);
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.credentials = options.credentials ?? dockerConfigCredentials();
    const resolveMap = options.resolve ?? {};
    this.agent = new Agent({
      connections: 16,
      headersTimeout: 120_000,
      bodyTimeout: 300_000,
      connect: {
        rejectUnauthorized: !this.endpoint.insecure,
        lookup: (host: string, opts: { all?: boolean }, cb: (...a: unknown[]) => void) => {
          const ip = resolveMap[host];
          if (ip === undefined) return dnsLookup(host, opts as never, cb as never);
          const family = ip.includes(':') ? 6 : 4;
          if (opts.all) cb(null, [{ address: ip, family } satisfies LookupAddress]);
          else cb(null, ip, family);
        },
      } as never,
    });
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private url(path: string): string {
    return /^https?:\/\//.test(path) ? path : `${this.endpoint.baseUrl}${path}`;
  }

  /**
   * Credentials are looked up for the host actually contacted: behind a mirror that is the
   * mirror's host, so Docker Hub credentials are never sent to a mirror.
   */
  private getCredentials(): Promise<Credentials | undefined> {
    const mirrored = this.options.mirrors?.[this.registry] !== undefined;
    this.creds ??= this.credentials(mirrored ? new URL(this.endpoint.baseUrl).host : this.registry);
    return this.creds;
  }

  /** GET /v2/ once: learns whether and how this registry wants authentication. */
  ping(): Promise<Challenge | undefined> {
    this.pinged ??= this.doPing().catch((e) => {
      this.pinged = undefined;
      throw e;
    });
    return this.pinged;
  }

  private async doPing(): Promise<Challenge | undefined> {
    const url = `${this.endpoint.baseUrl}/v2/`;
    let res: Dispatcher.ResponseData;
    try {
      res = await this.withRetry(() =>
        request(url, { method: 'GET', dispatcher: this.agent, headers: this.baseHeaders() }),
      );
    } catch (err) {
      if (isTlsOnPlainHttp(err) && this.endpoint.baseUrl.startsWith('https:')) {
        if (this.endpoint.insecure && this.endpoint.schemeGuessed) {
          (this.endpoint as { baseUrl: string }).baseUrl = this.endpoint.baseUrl.replace(/^https:/, 'http:');
          return this.doPing();
        }
        throw new CogtsError(
          'E_REGISTRY_PLAIN_HTTP',
          `registry ${this.registry} speaks plain HTTP, and cogts only uses HTTPS for a registry that is not on loopback`,
          { hint: `if you trust the network, pass --insecure-registry ${this.registry}`, cause: err },
        );
      }
      throw new CogtsError(
        'E_REGISTRY_UNREACHABLE',
        `cannot reach registry ${this.registry} at ${url}: ${(err as Error).message}`,
        {
          hint: 'check the registry address, the network, or --registry-mirror',
          cause: err,
        },
      );
    }
    await res.body.dump();
    if (res.statusCode === 400 && this.endpoint.schemeGuessed && this.endpoint.baseUrl.startsWith('http:')) {
      // A loopback registry serving TLS answers plain HTTP with 400 ("HTTP request to an HTTPS server").
      (this.endpoint as { baseUrl: string }).baseUrl = this.endpoint.baseUrl.replace(/^http:/, 'https:');
      return this.doPing();
    }
    if (res.statusCode === 200) return undefined;
    if (res.statusCode === 401) {
      const c = parseChallenge(header({ headers: res.headers }, 'www-authenticate'));
      if (c) return c;
    }
    if (res.statusCode === 404) {
      throw new CogtsError(
        'E_REGISTRY_API',
        `${url} answered 404: ${this.registry} does not serve the registry API v2`,
      );
    }
    throw new CogtsError('E_REGISTRY', `registry ${this.registry} answered ${res.statusCode} to GET ${url}`);
  }

  private baseHeaders(): Record<string, string> {
    return { 'user-agent': this.options.userAgent ?? 'cogts' };
  }

  private async authorization(spec: RequestSpec, refresh = false): Promise<string | undefined> {
    const challenge = await this.ping();
    if (!challenge) return undefined;
    if (challenge.scheme === 'basic') {
      const c = await this.getCredentials();
      if (!c) {
        throw new CogtsError('E_REGISTRY_AUTH', `registry ${this.registry} requires a login`, {
          hint: `cogts login ${this.registry} -u USER --password-stdin`,
        });
      }
      return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
    }
    if (challenge.scheme !== 'bearer') {
      throw new CogtsError(
        'E_REGISTRY_AUTH',
        `registry ${this.registry} asks for unsupported auth "${challenge.scheme}"`,
      );
    }
    const scopes = [
      ...(spec.repository ? [`repository:${spec.repository}:${spec.actions ?? 'pull'}`] : []),
      ...(spec.extraScopes ?? []),
    ];
    const key = scopes.join(' ');
    if (refresh) this.tokens.delete(key);
    let t = this.tokens.get(key);
    if (!t) {
      t = this.fetchToken(challenge, scopes);
      this.tokens.set(key, t);
      t.catch(() => this.tokens.delete(key));
    }
    return `Bearer ${await t}`;
  }

  /** The token flow: GET realm?service&scope… with Basic credentials when we have them, else anonymous. */
  private async fetchToken(challenge: Challenge, scopes: string[]): Promise<string> {
    const realm = challenge.params.realm;
    if (!realm)
      throw new CogtsError(
        'E_REGISTRY_AUTH',
        `registry ${this.registry} sent a Bearer challenge without a realm`,
      );
    const u = new URL(realm);
    if (challenge.params.service) u.searchParams.set('service', challenge.params.service);
    for (const s of scopes) u.searchParams.append('scope', s);
    const creds = await this.getCredentials();
    const headers = this.baseHeaders();
    let res: Dispatcher.ResponseData;
    if (creds?.identityToken) {
      // OAuth2 refresh-token grant (distribution's token spec), what `docker login` stores for some registries.
      const form = new URLSearchParams({
        grant_type: 'refresh_token',
        refresh_token: creds.identityToken,
        client_id: 'cogts',
      });
      if (challenge.params.service) form.set('service', challenge.params.service);
      if (scopes.length) form.set('scope', scopes.join(' '));
      headers['content-type'] = 'application/x-www-form-urlencoded';
      res = await this.withRetry(() =>
        request(realm, { method: 'POST', headers, body: form.toString(), dispatcher: this.agent }),
      );
    } else {
      if (creds)
        headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
      res = await this.withRetry(() => request(u, { method: 'GET', headers, dispatcher: this.agent }));
    }
    if (res.statusCode === 401 || res.statusCode === 403) {
      await res.body.dump();
      throw new CogtsError(
        'E_REGISTRY_AUTH',
        creds?.identityToken
          ? `registry ${this.registry} rejected the stored identity token (token service ${u.origin})`
          : creds
            ? `registry ${this.registry} rejected the username or password of "${creds.username}" (token service ${u.origin})`
            : `registry ${this.registry} refused an anonymous token`,
        { hint: `cogts login ${this.registry} -u USER --password-stdin` },
      );
    }
    if (res.statusCode !== 200) {
      const text = await res.body.text();
      throw new CogtsError(
        'E_REGISTRY_AUTH',
        `token service ${u.origin} answered ${res.statusCode}: ${text.slice(0, 300)}`,
      );
    }
    const j = (await res.body.json()) as { token?: string; access_token?: string };
    const token = j.token ?? j.access_token;
    if (!token) throw new CogtsError('E_REGISTRY_AUTH', `token service ${u.origin} answered without a token`);
    return token;
  }

  /** Retries `fn` on connection resets and 408/429/5xx, with backoff and Retry-After. */
  private async withRetry(
    fn: () => Promise<Dispatcher.ResponseData>,
    noRetry = false,
  ): Promise<Dispatcher.ResponseData> {
    for (let attempt = 1; ; attempt++) {
      let res: Dispatcher.ResponseData;
      try {
        res = await fn();
      } catch (err) {
        if (noRetry || attempt > this.retry.retries || !isTransientNetworkError(err)) throw err;
        await sleep(backoffMs(this.retry, attempt));
        continue;
      }
      if (noRetry || !RETRYABLE_STATUS.has(res.statusCode) || attempt > this.retry.retries) return res;
      await res.body.dump().catch(() => {});
      await sleep(backoffMs(this.retry, attempt, res.headers['retry-after']));
    }
  }

  /**
   * One API call: authenticates (refreshing the token once on a 401), follows redirects (dropping
   * Authorization when the host changes, as for blob storage), retries transient failures.
   */
  async send(spec: RequestSpec): Promise<Response> {
    let refreshed = false;
    for (;;) {
      const auth = await this.authorization(spec, refreshed);
      let url = this.url(spec.path);
      let res: Dispatcher.ResponseData | undefined;
      for (let hop = 0; hop < 6; hop++) {
        const sameHost = new URL(url).host === new URL(this.endpoint.baseUrl).host;
        const headers: Record<string, string> = { ...this.baseHeaders(), ...spec.headers };
        if (auth && sameHost) headers.authorization = auth;
        try {
          res = await this.withRetry(async () => {
            const body = typeof spec.body === 'function' ? await spec.body() : spec.body;
            return request(url, { method: spec.method, headers, body, dispatcher: this.agent });
          }, spec.noRetry);
        } catch (err) {
          if (err instanceof CogtsError) throw err;
          throw new CogtsError(
            'E_REGISTRY_NETWORK',
            `${spec.method} ${redact(url)} failed: ${(err as Error).message} (after ${this.retry.retries + 1} attempts)`,
            { cause: err },
          );
        }
        const loc = header({ headers: res.headers }, 'location');
        if (
          (spec.method === 'GET' || spec.method === 'HEAD') &&
          [301, 302, 303, 307, 308].includes(res.statusCode) &&
          loc
        ) {
          await res.body.dump();
          url = new URL(loc, url).toString();
          continue;
        }
        break;
      }
      const out: Response = { status: res!.statusCode, headers: res!.headers, body: res!.body, url };
      if (out.status === 401 && !refreshed) {
        await out.body.dump();
        refreshed = true;
        continue;
      }
      if (out.status === 401) {
        const c = parseChallenge(header(out, 'www-authenticate'));
        const err = await responseError(spec, out, this.registry);
        const creds = await this.getCredentials();
        throw new CogtsError(
          creds && c?.scheme === 'basic' ? 'E_REGISTRY_AUTH' : 'E_REGISTRY_DENIED',
          creds && c?.scheme === 'basic'
            ? `registry ${this.registry} rejected the username or password of "${creds.username}"`
            : `not authorized to ${spec.actions ?? 'pull'} ${spec.repository ?? ''} on ${this.registry}: ${err.message}`,
          { hint: `cogts login ${this.registry} -u USER --password-stdin` },
        );
      }
      if (!spec.expect.includes(out.status)) throw await responseError(spec, out, this.registry);
      return out;
    }
  }

  /**
   * Checks the configured credentials the way `docker login` does: Basic against /v2/, or a
   * token request (no scope) against the Bearer realm. Throws E_REGISTRY_AUTH when refused.
   */
  async verifyCredentials(): Promise<void> {
    const challenge = await this.ping();
    if (!challenge) return;
    if (challenge.scheme === 'bearer') {
      await this.fetchToken(challenge, []);
      return;
    }
    const res = await this.send({ method: 'GET', path: '/v2/', expect: [200] });
    await res.body.dump();
  }

  /** Absolute URL of an upload Location header (registries may answer relative paths). */
  resolveLocation(res: Response): string {
    const loc = header(res, 'location');
    if (!loc)
      throw new CogtsError(
        'E_REGISTRY',
        `registry ${this.registry} started an upload without a Location header`,
      );
    return new URL(loc, res.url).toString();
  }
}

/** One client per registry, shared options: what image/push code asks for. */
export class Registries {
  private readonly clients = new Map<string, RegistryClient>();
  constructor(readonly options: RegistryOptions = {}) {}

  client(registry: string): RegistryClient {
    let c = this.clients.get(registry);
    if (!c) {
      c = new RegistryClient(registry, this.options);
      this.clients.set(registry, c);
    }
    return c;
  }

  async close(): Promise<void> {
    await Promise.all([...this.clients.values()].map((c) => c.close()));
    this.clients.clear();
  }
}
