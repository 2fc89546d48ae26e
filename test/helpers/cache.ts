import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A cache shared by every test of a run (and kept between runs on one machine): downloads such as
 * the Node runtime or Debian packages are fetched once. Set COGTS_TEST_CACHE to move it.
 */
export function testCacheDir(sub = 'cogts'): string {
  const dir = join(process.env.COGTS_TEST_CACHE ?? '/var/cache/cogts-test', sub);
  mkdirSync(dir, { recursive: true });
  return dir;
}
