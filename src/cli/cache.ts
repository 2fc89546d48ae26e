import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { cacheUsage, parseSize, pruneCache } from '../cache/prune.js';
import { formatBytes } from '../progress/render.js';
import type { GlobalOptions } from './common.js';

interface CacheArgs extends GlobalOptions {
  cacheDir?: string;
  json: boolean;
  maxSize?: string;
  keepRecent: number;
}

/** The folder `cogts build` uses by default: --cache-dir, COGTS_CACHE_DIR, else the XDG cache dir. */
function cacheDirOf(args: CacheArgs): string {
  return (
    args.cacheDir ??
    process.env.COGTS_CACHE_DIR ??
    join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'cogts')
  );
}

const when = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

async function ls(args: CacheArgs): Promise<void> {
  const dir = cacheDirOf(args);
  const u = await cacheUsage(dir);
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ dir, ...u }, null, 2)}\n`);
    return;
  }
  process.stdout.write(
    `${dir}: ${formatBytes(u.bytes)} in ${u.items.length} entries (least recently used first)\n`,
  );
  for (const i of u.items) {
    process.stdout.write(
      `${when(i.lastUsed)}  ${formatBytes(i.bytes).padStart(10)}  ${i.kind.padEnd(6)} ${i.name.slice(0, 16)}  ${i.what ?? ''}\n`,
    );
  }
  for (const d of u.downloads)
    process.stdout.write(`downloads/${d.name}: ${formatBytes(d.bytes)} (not pruned)\n`);
}

async function prune(args: CacheArgs): Promise<void> {
  const dir = cacheDirOf(args);
  const maxSize = parseSize(args.maxSize ?? process.env.COGTS_CACHE_MAX_SIZE ?? '20G');
  const r = await pruneCache(dir, { maxSize, keepRecentMs: args.keepRecent * 1000 });
  if (args.json) {
    process.stdout.write(`${JSON.stringify({ dir, maxSize, ...r }, null, 2)}\n`);
    return;
  }
  process.stdout.write(
    `${dir}: removed ${r.removed.length} entries, ${formatBytes(r.bytesBefore)} → ${formatBytes(r.bytesAfter)} (limit ${formatBytes(maxSize)})\n`,
  );
}

function builder(y: Argv) {
  return y
    .option('cache-dir', { type: 'string', describe: 'Cache folder (env COGTS_CACHE_DIR)' })
    .option('json', { type: 'boolean', default: false, describe: 'Machine-readable output' })
    .command('ls', 'List cached layers, blobs and base snapshots, least recently used first', {}, (a) =>
      ls(a as unknown as CacheArgs),
    )
    .command(
      'prune',
      'Remove least recently used entries until the cache fits --max-size',
      (p) =>
        p
          .option('max-size', {
            type: 'string',
            describe: 'Size to prune down to, e.g. 10G, 500M, 0 (env COGTS_CACHE_MAX_SIZE; default 20G)',
          })
          .option('keep-recent', {
            type: 'number',
            default: 60,
            describe: 'Keep entries used in the last N seconds (a running build may need them)',
          }),
      (a) => prune(a as unknown as CacheArgs),
    )
    .demandCommand(1, 'Name a subcommand: cogts cache ls | prune');
}

export const cacheCommand: CommandModule<GlobalOptions, CacheArgs> = {
  command: 'cache',
  describe: 'Inspect or prune the local layer cache',
  builder: builder as unknown as CommandModule<GlobalOptions, CacheArgs>['builder'],
  handler: () => {},
};
