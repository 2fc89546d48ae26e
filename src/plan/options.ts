import { homedir } from 'node:os';
import { join } from 'node:path';
import type { CudaVariant } from '../compat/tables.js';
import { CogtsError } from '../errors.js';
import { COMPRESSION_LEVELS, type CompressionChoice, isCompressionAlgorithm } from '../layer/compression.js';
import type { NetworkOptions, Platform, Target } from './types.js';

/** What makePlan needs beyond Config and Toolchain: the build command's choices, already parsed. */
export interface PlanOptions {
  cogtsVersion: string;
  platform: Platform;
  target: Target;
  network: NetworkOptions;
  cache: { enabled: boolean; dir: string };
  indexUrl?: string;
  extraIndexUrls: string[];
  cudaVariant?: CudaVariant;
  baseImage?: string;
  /** Base URL of torch's per-build wheel indexes, or "none" (see ToolchainOptions.torchIndex). */
  torchIndex?: string;
  /** Layer compression; default gzip at its default level. */
  compression?: CompressionChoice;
}

/** The build flags as yargs hands them over (a subset of BuildArgs). */
export interface RawBuildOptions {
  tag?: string;
  push?: string;
  output?: string;
  baseImage?: string;
  registryMirror: string[];
  insecureRegistry: string[];
  platform: string;
  cacheDir?: string;
  cache: boolean;
  indexUrl?: string;
  extraIndexUrl: string[];
  aptMirror: string[];
  locked: boolean;
  cudaVariant?: string;
  torchIndex?: string;
  /** `--compression gzip|zstd` (default gzip). */
  compression?: string;
  /** `--compression-level N`: range depends on the algorithm. */
  compressionLevel?: number;
}

/**
 * Flags + environment → PlanOptions. Pure (env and home passed in) so tests need no process
 * state. Environment: COGTS_REGISTRY_MIRRORS (HOST=URL, comma or space separated; flags add to
 * it), COGTS_CACHE_DIR and COGTS_TORCH_INDEX (the flags win), XDG_CACHE_HOME (default cache root).
 */
export function planOptionsFrom(
  raw: RawBuildOptions,
  env: Record<string, string | undefined>,
  cogtsVersion: string,
  home = homedir(),
): PlanOptions {
  const mirrors = [...splitList(env.COGTS_REGISTRY_MIRRORS), ...raw.registryMirror.flatMap(splitList)];
  const registryMirrors = mirrors.map(parseMirror);
  const cacheDir =
    raw.cacheDir ?? env.COGTS_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(home, '.cache'), 'cogts');
  const options: PlanOptions = {
    cogtsVersion,
    platform: parsePlatform(raw.platform),
    target: parseTarget(raw),
    network: {
      registryMirrors,
      insecureRegistries: raw.insecureRegistry,
      aptMirrors: raw.aptMirror,
      locked: raw.locked,
    },
    cache: { enabled: raw.cache, dir: cacheDir },
    extraIndexUrls: raw.extraIndexUrl,
  };
  if (raw.indexUrl) options.indexUrl = raw.indexUrl;
  if (raw.baseImage) options.baseImage = raw.baseImage;
  const torchIndex = raw.torchIndex ?? env.COGTS_TORCH_INDEX;
  if (torchIndex) {
    if (torchIndex !== 'none' && !/^(https?|file):\/\/./.test(torchIndex)) {
      throw new CogtsError(
        'E_USAGE',
        `--torch-index ${torchIndex}: expected a URL (a mirror of https://download.pytorch.org/whl) or none`,
      );
    }
    options.torchIndex = torchIndex;
  }
  if (raw.cudaVariant !== undefined) {
    if (!['base', 'runtime', 'devel'].includes(raw.cudaVariant)) {
      throw new CogtsError('E_USAGE', `--cuda-variant ${raw.cudaVariant}: expected base, runtime or devel`);
    }
    options.cudaVariant = raw.cudaVariant as CudaVariant;
  }
  options.compression = parseCompression(raw.compression, raw.compressionLevel);
  return options;
}

/** `--compression` and `--compression-level`, checked here so the error names the flag. */
export function parseCompression(algorithm = 'gzip', level?: number): CompressionChoice {
  if (!isCompressionAlgorithm(algorithm)) {
    throw new CogtsError('E_USAGE', `--compression ${algorithm}: expected gzip or zstd`);
  }
  const range = COMPRESSION_LEVELS[algorithm];
  if (level === undefined) return { algorithm, level: range.default };
  if (!Number.isInteger(level) || level < range.min || level > range.max) {
    throw new CogtsError(
      'E_USAGE',
      `--compression-level ${level}: ${algorithm} levels are ${range.min}-${range.max} (default ${range.default})`,
    );
  }
  return { algorithm, level };
}

function splitList(v: string | undefined): string[] {
  return (v ?? '').split(/[\s,]+/).filter(Boolean);
}

function parseMirror(spec: string): { host: string; url: string } {
  const eq = spec.indexOf('=');
  const host = spec.slice(0, eq);
  const url = spec.slice(eq + 1);
  if (eq <= 0 || !/^https?:\/\/[^/]/.test(url)) {
    throw new CogtsError(
      'E_USAGE',
      `registry mirror "${spec}": expected HOST=URL, e.g. docker.io=http://127.0.0.1:5000`,
      {
        hint: 'set it with --registry-mirror or COGTS_REGISTRY_MIRRORS (comma-separated)',
      },
    );
  }
  return {
    host: host === 'index.docker.io' || host === 'registry-1.docker.io' ? 'docker.io' : host,
    url: url.replace(/\/+$/, ''),
  };
}

export function parsePlatform(spec: string): Platform {
  const [os, arch, variant, ...rest] = spec.split('/');
  const architecture = arch === 'x86_64' ? 'amd64' : arch === 'aarch64' ? 'arm64' : arch;
  if (os !== 'linux' || (architecture !== 'amd64' && architecture !== 'arm64') || rest.length > 0) {
    throw new CogtsError('E_USAGE', `--platform ${spec}: expected linux/amd64 or linux/arm64[/v8]`);
  }
  const p: Platform = { os, architecture };
  if (variant) p.variant = variant;
  return p;
}

function parseTarget(raw: RawBuildOptions): Target {
  const t: Target = {};
  if (raw.tag) t.tag = raw.tag;
  if (raw.push) t.push = raw.push;
  if (raw.output) {
    const m = /^(oci|docker-archive):(.+)$/.exec(raw.output);
    if (!m) {
      throw new CogtsError('E_USAGE', `--output ${raw.output}: expected oci:DIR or docker-archive:FILE`);
    }
    t.output = { kind: m[1] as 'oci' | 'docker-archive', path: m[2]! };
  }
  return t;
}
