import { spawn } from 'node:child_process';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { CogtsError } from '../errors.js';
import { DOCKER_HUB } from '../oci/reference.js';

export interface Credentials {
  username: string;
  password: string;
  /** An OAuth2 refresh token (`identitytoken` in the Docker config, or a helper's `<token>` user). */
  identityToken?: string;
}

/** A source of credentials for a registry (as named in references, e.g. `docker.io`). */
export type CredentialLookup = (registry: string) => Promise<Credentials | undefined>;

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string }>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [k: string]: unknown;
}

/** The key Docker writes for Docker Hub; everything else is keyed by host[:port]. */
const HUB_KEY = 'https://index.docker.io/v1/';

export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.DOCKER_CONFIG || join(homedir(), '.docker'), 'config.json');
}

/** Files read in order: $REGISTRY_AUTH_FILE (podman/skopeo auth.json), then the Docker config. */
export function authFiles(env: NodeJS.ProcessEnv = process.env): string[] {
  const files: string[] = [];
  if (env.REGISTRY_AUTH_FILE) files.push(env.REGISTRY_AUTH_FILE);
  files.push(dockerConfigPath(env));
  if (env.XDG_RUNTIME_DIR) files.push(join(env.XDG_RUNTIME_DIR, 'containers', 'auth.json'));
  return files;
}

async function readConfig(path: string): Promise<DockerConfig | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    return JSON.parse(text) as DockerConfig;
  } catch (err) {
    throw new CogtsError('E_DOCKER_CONFIG', `${path} is not valid JSON: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** `https://index.docker.io/v1/` → docker.io, `http://host:5000/v2` → host:5000. */
export function normaliseAuthKey(key: string): string {
  const host = key.replace(/^[a-z]+:\/\//i, '').replace(/\/.*$/, '');
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? DOCKER_HUB : host;
}

function helperServer(registry: string): string {
  return registry === DOCKER_HUB ? HUB_KEY : registry;
}

/** Runs `docker-credential-<helper> get` with the server URL on stdin (the credential-helper protocol). */
export async function runCredentialHelper(
  helper: string,
  registry: string,
): Promise<Credentials | undefined> {
  const bin = `docker-credential-${helper}`;
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>(
    (resolve, reject) => {
      const p = spawn(bin, ['get'], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      p.stdout.on('data', (d: Buffer) => {
        out += d;
      });
      p.stderr.on('data', (d: Buffer) => {
        err += d;
      });
      p.on('error', (e) =>
        reject(
          new CogtsError('E_CREDENTIAL_HELPER', `credential helper ${bin} could not be run: ${e.message}`, {
            hint: `install ${bin} or remove it from credsStore/credHelpers in ${dockerConfigPath()}`,
            cause: e,
          }),
        ),
      );
      p.on('close', (c) => resolve({ code: c, stdout: out, stderr: err }));
      p.stdin.end(helperServer(registry));
    },
  );
  if (code !== 0) {
    if (/credentials not found/i.test(stdout + stderr)) return undefined;
    throw new CogtsError(
      'E_CREDENTIAL_HELPER',
      `${bin} get failed for ${registry}: ${(stderr || stdout).trim()}`,
    );
  }
  const parsed = JSON.parse(stdout) as { Username?: string; Secret?: string };
  if (!parsed.Username || parsed.Secret === undefined) return undefined;
  if (parsed.Username === '<token>')
    return { username: '<token>', password: '', identityToken: parsed.Secret };
  return { username: parsed.Username, password: parsed.Secret };
}

/** Credentials from the Docker/podman config files: credHelpers, then auths, then credsStore. */
export function dockerConfigCredentials(env: NodeJS.ProcessEnv = process.env): CredentialLookup {
  return async (registry) => {
    for (const file of authFiles(env)) {
      const cfg = await readConfig(file);
      if (!cfg) continue;
      const helper = Object.entries(cfg.credHelpers ?? {}).find(
        ([k]) => normaliseAuthKey(k) === registry,
      )?.[1];
      if (helper) return runCredentialHelper(helper, registry);
      const entry = Object.entries(cfg.auths ?? {}).find(([k]) => normaliseAuthKey(k) === registry)?.[1];
      if (entry?.auth) {
        const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
        const i = decoded.indexOf(':');
        if (i < 0)
          throw new CogtsError(
            'E_DOCKER_CONFIG',
            `auths["${registry}"].auth in ${file} is not base64 of user:password`,
          );
        return { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
      }
      if (entry?.username && entry.password !== undefined)
        return { username: entry.username, password: entry.password };
      if (cfg.credsStore) {
        const c = await runCredentialHelper(cfg.credsStore, registry);
        if (c) return c;
      }
    }
    return undefined;
  };
}

/** Stores `auths[registry]` in the Docker config (what `docker login` writes without a helper). */
export async function saveDockerConfigAuth(
  registry: string,
  creds: Credentials,
  env: NodeJS.ProcessEnv = process.env,
): Promise<string> {
  const path = env.REGISTRY_AUTH_FILE || dockerConfigPath(env);
  const cfg: DockerConfig = (await readConfig(path)) ?? {};
  cfg.auths ??= {};
  const key = registry === DOCKER_HUB ? HUB_KEY : registry;
  for (const k of Object.keys(cfg.auths)) if (normaliseAuthKey(k) === registry) delete cfg.auths[k];
  cfg.auths[key] = { auth: Buffer.from(`${creds.username}:${creds.password}`).toString('base64') };
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(cfg, null, '\t')}\n`, { mode: 0o600 });
  await rename(tmp, path);
  return path;
}

export function staticCredentials(map: Record<string, Credentials>): CredentialLookup {
  return async (registry) => map[registry];
}
