import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RunningImage {
  proc: ChildProcess;
  /** stdout+stderr of the container so far (for assertion messages). */
  output(): string;
  /** Sends a signal to the container's PID 1, like `docker stop` does. */
  signal(sig: 'TERM' | 'KILL' | 'INT'): void;
  /** Resolves with the exit code of the container's PID 1. */
  exited: Promise<number | null>;
  cleanup(): void;
}

export interface UnpackedImage {
  bundle: string;
  /** The OCI runtime config umoci derived from the image config (Entrypoint+Cmd, Env, WorkingDir). */
  runtimeConfig: { process: { args: string[]; env: string[]; cwd: string } };
  cleanup(): void;
}

/**
 * Pulls an image back out of a registry with skopeo and unpacks it with umoci into an OCI runtime
 * bundle: the image's own entrypoint, env and working dir, read from its config by tools that are
 * not cogts.
 */
export function unpackFromRegistry(ref: string): UnpackedImage {
  const dir = mkdtempSync(join(tmpdir(), 'cogts-run-'));
  const layout = join(dir, 'layout');
  const bundle = join(dir, 'bundle');
  execFileSync(
    'skopeo',
    ['copy', '--quiet', '--src-tls-verify=false', `docker://${ref}`, `oci:${layout}:img`],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  execFileSync('umoci', ['unpack', '--image', `${layout}:img`, bundle], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const runtimeConfig = JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8'));
  return { bundle, runtimeConfig, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Runs an unpacked image's own entrypoint with runc, as `docker run` would: its PID namespace (the
 * server is PID 1), no TTY, and the host's network namespace so the test reaches it on loopback.
 */
export function runBundle(
  image: UnpackedImage,
  opts: { env?: Record<string, string>; args?: string[] } = {},
): RunningImage {
  const configPath = join(image.bundle, 'config.json');
  const config = JSON.parse(readFileSync(configPath, 'utf8'));
  config.process.terminal = false;
  if (opts.args) config.process.args = opts.args;
  config.linux.namespaces = config.linux.namespaces.filter((n: { type: string }) => n.type !== 'network');
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    config.process.env = config.process.env.filter((e: string) => !e.startsWith(`${k}=`));
    config.process.env.push(`${k}=${v}`);
  }
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const id = `cogts-test-${process.pid}-${Date.now()}`;
  const proc = spawn('runc', ['run', '--bundle', image.bundle, id], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  proc.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return {
    proc,
    output: () => out,
    signal: (sig) => {
      try {
        execFileSync('runc', ['kill', id, sig], { stdio: 'ignore' });
      } catch {
        // already gone
      }
    },
    exited,
    cleanup: () => {
      try {
        execFileSync('runc', ['delete', '--force', id], { stdio: 'ignore' });
      } catch {
        // never started or already deleted
      }
    },
  };
}

/** Polls `url` until `accept(body)` is true or the deadline passes. */
export async function waitFor(
  url: string,
  accept: (body: Record<string, unknown>) => boolean,
  timeoutMs = 30_000,
  intervalMs = 100,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      const body = (await res.json()) as Record<string, unknown>;
      last = body;
      if (accept(body)) return body;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  throw new Error(`timed out waiting on ${url}; last: ${JSON.stringify(last)}`);
}
