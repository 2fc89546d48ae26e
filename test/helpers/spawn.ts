import { spawn } from 'node:child_process';

export interface Finished {
  status: number | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to close. */
  ms: number;
}

/**
 * Runs a command without blocking this process (tests and benches serve registries and indexes from
 * it while the child runs) and collects its output. A non-zero status is returned, not thrown.
 */
export function runCollect(
  cmd: string,
  args: readonly string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<Finished> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(cmd, args, { ...opts, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (status) =>
      resolve({ status, stdout, stderr, ms: Math.round(performance.now() - t0) }),
    );
  });
}
