import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { loadConfig } from '../config/load.js';
import { CogtsError } from '../errors.js';
import { requirementsFromConfig } from '../pip/config-inputs.js';
import {
  LOCK_FILE_NAME,
  lockPython,
  type RequirementsInput,
  readLock,
  resolvePython,
  writeLockSection,
} from '../pip/index.js';
import type { PythonTarget } from '../pip/target.js';
import { fileOption, type GlobalOptions } from './common.js';

export interface LockArgs extends GlobalOptions {
  file: string;
  requirements?: string;
  pythonVersion?: string;
  platform: string;
  glibc?: string;
  musl?: string;
  indexUrl?: string;
  extraIndexUrl: string[];
  findLinks: string[];
  cacheDir?: string;
  lockFile?: string;
  check: boolean;
}

function builder(y: Argv) {
  return fileOption(y)
    .option('requirements', {
      alias: 'r',
      type: 'string',
      describe: 'Lock this requirements.txt instead of the one cog.yaml names',
    })
    .option('python-version', {
      type: 'string',
      describe: 'Target Python (default: cog.yaml build.python_version, else 3.11)',
    })
    .option('platform', { type: 'string', default: 'linux/amd64', describe: 'Image platform' })
    .option('glibc', { type: 'string', describe: "Base image glibc (default 2.36, Debian bookworm's)" })
    .option('musl', {
      type: 'string',
      describe: 'Base image musl version (musllinux wheels instead of manylinux)',
    })
    .option('index-url', {
      type: 'string',
      describe: 'Python package index (env PIP_INDEX_URL; default PyPI)',
    })
    .option('extra-index-url', {
      type: 'string',
      array: true,
      default: [] as string[],
      describe: 'More indexes (env PIP_EXTRA_INDEX_URL)',
    })
    .option('find-links', {
      type: 'string',
      array: true,
      default: [] as string[],
      describe: 'Flat pages or folders of wheels',
    })
    .option('cache-dir', { type: 'string', describe: 'Cache folder (env COGTS_CACHE_DIR)' })
    .option('lock-file', {
      type: 'string',
      describe: `Lock file (default: ${LOCK_FILE_NAME} next to cog.yaml)`,
    })
    .option('check', {
      type: 'boolean',
      default: false,
      describe: 'Do not resolve: fail if the lock is missing or stale (what build --locked does)',
    });
}

export const lockCommand: CommandModule<GlobalOptions, LockArgs> = {
  command: 'lock',
  describe: 'Resolve every input and write cogts.lock',
  builder: builder as unknown as CommandModule<GlobalOptions, LockArgs>['builder'],
  handler: async (argv: ArgumentsCamelCase<LockArgs>) => {
    let inputs: RequirementsInput[];
    let projectDir: string;
    let pythonVersion = argv.pythonVersion;
    if (argv.requirements) {
      inputs = [{ file: resolve(argv.requirements) }];
      projectDir = dirname(resolve(argv.file));
    } else {
      const config = await loadConfig(argv.file);
      inputs = requirementsFromConfig(config);
      projectDir = config.projectDir;
      pythonVersion ??= config.build.pythonVersion;
    }
    const target: PythonTarget = { pythonVersion: pythonVersion ?? '3.11', platform: argv.platform };
    if (argv.musl) target.musl = argv.musl;
    else target.glibc = argv.glibc ?? '2.36';
    const lockPath = argv.lockFile ? resolve(argv.lockFile) : join(projectDir, LOCK_FILE_NAME);
    const cacheDir = argv.cacheDir ?? process.env.COGTS_CACHE_DIR ?? join(homedir(), '.cache', 'cogts');
    const pipCache = join(cacheDir, 'pip');
    const indexes = {
      indexUrl: argv.indexUrl,
      extraIndexUrls: argv.extraIndexUrl,
      findLinks: argv.findLinks,
    };
    const lock = await readLock(lockPath);
    if (argv.check) {
      await resolvePython({
        requirements: inputs,
        indexes,
        target,
        cacheDir: pipCache,
        lock,
        locked: true,
        lockPath,
      });
      process.stdout.write(`${lockPath} is up to date\n`);
      return;
    }
    if (!inputs.length)
      throw new CogtsError(
        'E_LOCK_NOTHING',
        `${argv.file} declares no python_requirements or python_packages`,
        { hint: 'or pass --requirements FILE' },
      );
    const resolution = await resolvePython({
      requirements: inputs,
      indexes,
      target,
      cacheDir: pipCache,
      lock,
    });
    const pip = await lockPython(resolution, pipCache);
    await writeLockSection(lockPath, 'pip', pip);
    for (const p of pip.packages) process.stdout.write(`${p.name}==${p.version}\n`);
    process.stdout.write(`wrote ${lockPath} (${pip.packages.length} Python packages)\n`);
  },
};
