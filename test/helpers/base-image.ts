import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { testCacheRoot } from './debootstrap.js';

/**
 * Turns a rootfs directory into an OCI image layout with umoci (a tool that is not cogts, so the
 * builder meets an image it did not write). Cached by rootfs path + env; returns `oci:DIR:TAG` for
 * skopeo. The layout is made once per machine; pushing it to a test registry is `pushLayout`.
 */
export function imageLayoutFromRootfs(rootfs: string, env: string[] = []): string {
  const key = createHash('sha256')
    .update(JSON.stringify([rootfs, env]))
    .digest('hex')
    .slice(0, 16);
  const layout = join(testCacheRoot, 'base-layouts', key);
  const ref = `oci:${layout}:base`;
  if (existsSync(join(layout, 'complete'))) return ref;
  const tmp = `${layout}.${process.pid}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(layout, '..'), { recursive: true });
  const run = (args: string[]) => execFileSync('umoci', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  run(['init', '--layout', tmp]);
  run(['new', '--image', `${tmp}:base`]);
  // umoci insert copies the tree as one layer, keeping ownership, modes and links.
  run(['insert', '--image', `${tmp}:base`, rootfs, '/']);
  const configArgs = ['config', '--image', `${tmp}:base`, '--os', 'linux', '--architecture', 'amd64'];
  for (const e of env) configArgs.push('--config.env', e);
  run(configArgs);
  run(['gc', '--layout', tmp]);
  rmSync(layout, { recursive: true, force: true });
  renameSync(tmp, layout);
  writeFileSync(join(layout, 'complete'), '');
  return ref;
}

/** Copies an image (any skopeo transport) into a registry over plain HTTP. */
export function pushImage(src: string, dest: string, format: 'oci' | 'v2s2' = 'v2s2'): void {
  execFileSync(
    'skopeo',
    ['copy', '--quiet', '--dest-tls-verify=false', '--format', format, src, `docker://${dest}`],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
}
