/**
 * Real registries for tests: Debian's `docker-registry` (distribution 2.8) on 127.0.0.1, with a
 * temp config, in three flavours: no auth, htpasswd basic auth, and token auth backed by a small
 * token issuer in this process that signs ES256 JWTs the registry verifies against a root cert.
 *
 *   const reg = await startRegistry({ auth: 'token' });   // reg.host = '127.0.0.1:PORT'
 *   await pushBaseImages(reg);                             // reg.host/base/oci, base/docker, base/multi
 *   ... await reg.stop();
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, get as httpGet, type Server } from 'node:http';
import { get as httpsGet } from 'node:https';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fixturesDir } from './paths.js';

const execFileP = promisify(execFile);

export type RegistryAuth = 'none' | 'basic' | 'token';

export interface StartRegistryOptions {
  auth?: RegistryAuth;
  /** Users for basic/token auth; default { cogts: 'secret' }. */
  users?: Record<string, string>;
  /** Token issuer answers with `access_token` instead of `token` (both are valid per the spec). */
  tokenField?: 'token' | 'access_token';
  /** Token auth: anonymous clients may pull (not push). Default true. */
  anonymousPull?: boolean;
  /** Serve HTTPS with a self-signed certificate for 127.0.0.1 (url becomes https://). */
  tls?: boolean;
}

export interface TestRegistry {
  /** `127.0.0.1:PORT`, as written in image references. */
  host: string;
  /** `http://127.0.0.1:PORT` */
  url: string;
  auth: RegistryAuth;
  /** A user that may push (undefined for auth 'none'). */
  username?: string;
  password?: string;
  /** Requests the token issuer received (scope strings), for assertions. */
  tokenRequests: string[];
  /** Storage root of the registry (to inspect or corrupt in tests). */
  dataDir: string;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** libtrust's key id (what distribution matches a JWT `kid` against): base32 of sha256(SPKI)[:30]. */
function libtrustKeyId(spkiDer: Buffer): string {
  const bytes = createHash('sha256').update(spkiDer).digest().subarray(0, 30);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  return out.match(/.{4}/g)!.join(':');
}

interface TokenIssuer {
  realm: string;
  certPath: string;
  server: Server;
}

async function startTokenIssuer(
  dir: string,
  users: Record<string, string>,
  opts: StartRegistryOptions,
  log: string[],
): Promise<TokenIssuer> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keyPath = join(dir, 'token.key');
  const certPath = join(dir, 'token.crt');
  writeFileSync(keyPath, privateKey.export({ type: 'pkcs8', format: 'pem' }));
  // Node cannot issue certificates; the registry only reads the public key out of this one.
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-new',
      '-key',
      keyPath,
      '-out',
      certPath,
      '-days',
      '2',
      '-subj',
      '/CN=cogts-test-token',
    ],
    { stdio: 'pipe' },
  );
  const kid = libtrustKeyId(createPublicKey(privateKey).export({ type: 'spki', format: 'der' }));
  const issue = (user: string | undefined, scopes: string[], service: string | null): string => {
    const access = scopes.flatMap((s) => {
      const [type, name, actions] = s.split(':');
      if (type !== 'repository' || !name || !actions) return [];
      const wanted = actions.split(',');
      const granted = user
        ? wanted.filter((a) => a === 'pull' || a === 'push')
        : opts.anonymousPull === false
          ? []
          : wanted.filter((a) => a === 'pull');
      return [{ type, name, actions: granted }];
    });
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'ES256', kid }));
    const claims = b64url(
      JSON.stringify({
        iss: 'cogts-test-issuer',
        sub: user ?? '',
        aud: service,
        exp: now + 300,
        nbf: now - 10,
        iat: now,
        jti: randomBytes(8).toString('hex'),
        access,
      }),
    );
    const sig = sign('sha256', Buffer.from(`${header}.${claims}`), {
      key: privateKey,
      dsaEncoding: 'ieee-p1363',
    });
    return `${header}.${claims}.${b64url(sig)}`;
  };
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const scopes = url.searchParams.getAll('scope');
    log.push(scopes.join(' '));
    let user: string | undefined;
    if (req.method === 'POST') {
      // OAuth2 refresh-token grant: the refresh token is "refresh-<user>" for a known user.
      let body = '';
      req.on('data', (d: Buffer) => {
        body += d;
      });
      req.on('end', () => {
        const form = new URLSearchParams(body);
        const u = form.get('refresh_token')?.replace(/^refresh-/, '');
        if (form.get('grant_type') !== 'refresh_token' || !u || !(u in users)) {
          res.writeHead(401).end('{"error":"invalid_grant"}');
          return;
        }
        log.push(form.get('scope') ?? '');
        const scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ access_token: issue(u, scopes, form.get('service')), expires_in: 300 }));
      });
      return;
    }
    const authz = req.headers.authorization;
    if (authz?.startsWith('Basic ')) {
      const [u, ...p] = Buffer.from(authz.slice(6), 'base64').toString().split(':');
      if (u === undefined || users[u] !== p.join(':')) {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ details: 'incorrect username or password' }));
        return;
      }
      user = u;
    }
    const token = issue(user, scopes, url.searchParams.get('service'));
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ [opts.tokenField ?? 'token']: token, expires_in: 300 }));
  });
  const port = await freePort();
  await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
  return { realm: `http://127.0.0.1:${port}/token`, certPath, server };
}

function probe(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = (url.startsWith('https:') ? httpsGet : httpGet)(
      `${url}/v2/`,
      { rejectUnauthorized: false },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
  });
}

async function waitReady(url: string, proc: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (proc.exitCode !== null) throw new Error(`docker-registry exited (${proc.exitCode}): ${stderr()}`);
    try {
      const status = await probe(url);
      if (status === 200 || status === 401) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`docker-registry did not answer on ${url}: ${stderr()}`);
}

export async function startRegistry(opts: StartRegistryOptions = {}): Promise<TestRegistry> {
  const auth = opts.auth ?? 'none';
  const users = opts.users ?? { cogts: 'secret' };
  const dir = mkdtempSync(join(tmpdir(), 'cogts-registry-'));
  const dataDir = join(dir, 'data');
  const port = await freePort();
  const tokenRequests: string[] = [];
  let issuer: TokenIssuer | undefined;
  let authYaml = '';
  if (auth === 'basic') {
    const lines = Object.entries(users).map(([u, p]) =>
      execFileSync('htpasswd', ['-Bbn', u, p], { encoding: 'utf8' }).trim(),
    );
    writeFileSync(join(dir, 'htpasswd'), `${lines.join('\n')}\n`);
    authYaml = `auth:\n  htpasswd:\n    realm: cogts-test\n    path: ${join(dir, 'htpasswd')}\n`;
  } else if (auth === 'token') {
    issuer = await startTokenIssuer(dir, users, opts, tokenRequests);
    authYaml =
      `auth:\n  token:\n    realm: ${issuer.realm}\n    service: cogts-test-registry\n` +
      `    issuer: cogts-test-issuer\n    rootcertbundle: ${issuer.certPath}\n`;
  }
  let tlsYaml = '';
  if (opts.tls) {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-keyout',
        join(dir, 'tls.key'),
        '-out',
        join(dir, 'tls.crt'),
        '-days',
        '2',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'pipe' },
    );
    tlsYaml = `  tls:\n    certificate: ${join(dir, 'tls.crt')}\n    key: ${join(dir, 'tls.key')}\n`;
  }
  const config =
    `version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: ${dataDir}\n` +
    `  delete:\n    enabled: true\n  maintenance:\n    uploadpurging:\n      enabled: false\n` +
    `http:\n  addr: 127.0.0.1:${port}\n  secret: ${randomBytes(16).toString('hex')}\n${tlsYaml}${authYaml}`;
  writeFileSync(join(dir, 'config.yml'), config);
  const proc = spawn('/usr/bin/docker-registry', ['serve', join(dir, 'config.yml')], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir },
  });
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-4000);
  });
  const url = `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  const stop = async () => {
    if (proc.exitCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await exited;
    }
    if (issuer) await new Promise((r) => issuer!.server.close(r));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitReady(url, proc, () => err);
  } catch (e) {
    await stop();
    throw e;
  }
  const reg: TestRegistry = { host: `127.0.0.1:${port}`, url, auth, tokenRequests, dataDir, stop };
  if (auth !== 'none') {
    const [u, p] = Object.entries(users)[0]!;
    reg.username = u;
    reg.password = p;
  }
  return reg;
}

/** The umoci-made OCI layout (tags amd64, arm64, multi), built once per machine and kept. */
export async function baseImageLayout(): Promise<string> {
  const recipe = join(fixturesDir, 'base-images', 'make-layout.sh');
  const key = createHash('sha256').update(readFileSync(recipe)).digest('hex').slice(0, 12);
  const dir = join(tmpdir(), `cogts-base-layout-${key}`);
  if (existsSync(join(dir, 'index.json'))) return dir;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  await execFileP('bash', [recipe, tmp]);
  try {
    renameSync(tmp, dir);
  } catch {
    rmSync(tmp, { recursive: true, force: true }); // another test process won the race
  }
  return dir;
}

export function skopeoCreds(reg: TestRegistry, side: 'src' | 'dest'): string[] {
  return reg.username ? [`--${side}-creds`, `${reg.username}:${reg.password}`] : [];
}

export interface BaseImages {
  /** OCI manifest, linux/amd64, one layer. */
  oci: string;
  /** The same image converted by skopeo to Docker schema2 media types. */
  docker: string;
  /** OCI index: unknown/unknown, linux/arm64/v8, linux/amd64. */
  multi: string;
}

/** Copies the base images into the registry with skopeo; returns their references. */
export async function pushBaseImages(reg: TestRegistry, repoPrefix = 'base'): Promise<BaseImages> {
  const layout = await baseImageLayout();
  const copy = (args: string[]) =>
    execFileP('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', ...skopeoCreds(reg, 'dest'), ...args]);
  const out: BaseImages = {
    oci: `${reg.host}/${repoPrefix}/oci:1`,
    docker: `${reg.host}/${repoPrefix}/docker:1`,
    multi: `${reg.host}/${repoPrefix}/multi:1`,
  };
  await copy(['--format', 'oci', `oci:${layout}:amd64`, `docker://${out.oci}`]);
  await copy(['--format', 'v2s2', `oci:${layout}:amd64`, `docker://${out.docker}`]);
  await copy(['--all', `oci:${layout}:multi`, `docker://${out.multi}`]);
  return out;
}

/** `skopeo inspect --raw|--config` of an image in the registry, parsed. */
export async function skopeoInspect(
  reg: TestRegistry,
  ref: string,
  what: '--raw' | '--config' | '' = '',
): Promise<unknown> {
  const args = [
    'inspect',
    '--tls-verify=false',
    ...skopeoCreds(reg, 'src').map((a) => a.replace('--src-', '--')),
    ...(what ? [what] : []),
    `docker://${ref}`,
  ];
  const { stdout } = await execFileP('skopeo', args, { maxBuffer: 64 << 20 });
  return JSON.parse(stdout);
}
