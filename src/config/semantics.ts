import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { pythonTable } from '../compat/data.js';
import type { SourceLocator } from './locate.js';
import { type ConfigProblem, closest, describeValue, type FieldPath, formatPath } from './problems.js';

/**
 * Rules the schema cannot express: values that must name supported versions, files that must
 * exist in the project, predictor references that must resolve, and environment variables cogts
 * must not let a model override. Each check is defensive about types (the schema pass reports
 * wrong types; these checks simply skip what they cannot read).
 */
export interface SemanticContext {
  doc: Record<string, unknown>;
  file: string;
  projectDir: string;
  locator: () => SourceLocator;
}

/**
 * Names the runtime or the base image must own: overriding them breaks Python, CUDA or the
 * server. Cog keeps a deny-list of the same kind (cog-api.md, "Details of the current Cog
 * runtime"); COG_* includes the settings cogts derives from cog.yaml (COG_MAX_CONCURRENCY).
 */
const deniedEnvNames = [
  'PATH',
  'LD_LIBRARY_PATH',
  'LD_PRELOAD',
  'LIBRARY_PATH',
  'PYTHONPATH',
  'PYTHONHOME',
  'VIRTUAL_ENV',
];
const deniedEnvPrefixes = ['CUDA_', 'NVIDIA_', 'NV_', 'COG_', 'COGTS_', 'R8_', 'REPLICATE_'];

export function semanticProblems(ctx: SemanticContext): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const add = (path: FieldPath, message: string, suggestion?: string, atKey = false) => {
    const p: ConfigProblem = {
      file: ctx.file,
      ...ctx.locator().locate(path, atKey),
      field: formatPath(path),
      message,
    };
    if (suggestion) p.suggestion = suggestion;
    problems.push(p);
  };
  const build = isRecord(ctx.doc.build) ? ctx.doc.build : {};

  checkPythonVersion(ctx, build, add);
  for (const key of ['cuda', 'cudnn'] as const) {
    const v = build[key];
    if (typeof v === 'string' && !/^\d+(\.\d+){0,2}$/.test(v)) {
      add(
        ['build', key],
        `expected a version such as ${key === 'cuda' ? '"12.1"' : '"8"'}, got ${describeValue(v)}`,
      );
    }
  }
  if (typeof build.python_requirements === 'string') {
    const rel = build.python_requirements;
    const abs = isAbsolute(rel) ? rel : join(ctx.projectDir, rel);
    if (!existsSync(abs)) {
      add(
        ['build', 'python_requirements'],
        `requirements file not found: ${abs}`,
        requirementsHint(ctx.projectDir),
      );
    } else if (!statSync(abs).isFile()) {
      add(['build', 'python_requirements'], `not a file: ${abs}`);
    }
  }
  if (Array.isArray(build.system_packages)) {
    build.system_packages.forEach((name, i) => {
      // Debian policy §5.6.1 package names, optionally `:arch` and `=version` as apt-get accepts.
      if (
        typeof name === 'string' &&
        !/^[a-z0-9][a-z0-9+.-]+(:[a-z0-9-]+)?(=[A-Za-z0-9.+~:-]+)?$/.test(name)
      ) {
        add(
          ['build', 'system_packages', i],
          `expected an apt package name such as "libgl1", got ${describeValue(name)}`,
        );
      }
    });
  }
  if (Array.isArray(build.python_packages)) {
    build.python_packages.forEach((spec, i) => {
      if (typeof spec === 'string' && !/^[A-Za-z0-9]/.test(spec.trim())) {
        add(
          ['build', 'python_packages', i],
          `expected a requirement such as "torch==2.1.0", got ${describeValue(spec)}`,
        );
      }
    });
  }
  for (const key of ['run', 'predict', 'train'] as const) {
    if (typeof ctx.doc[key] === 'string') checkTarget(ctx, key, ctx.doc[key] as string, add);
  }
  checkEnvironment(ctx.doc.environment, add);
  const concurrency = ctx.doc.concurrency;
  if (isRecord(concurrency) && typeof concurrency.max === 'number' && concurrency.max < 1) {
    add(['concurrency', 'max'], `expected a whole number of at least 1, got ${concurrency.max}`);
  }
  checkWeightNames(ctx.doc.weights, add);
  return problems;
}

type Add = (path: FieldPath, message: string, suggestion?: string, atKey?: boolean) => void;

function checkPythonVersion(ctx: SemanticContext, build: Record<string, unknown>, add: Add): void {
  const raw = build.python_version;
  if (raw === undefined || (typeof raw !== 'string' && typeof raw !== 'number')) return;
  const written = pythonVersionText(raw, ctx.locator);
  const table = pythonTable();
  const minors = table.versions.map((v) => v.minor);
  const m = /^(\d+)\.(\d+)(\.\d+)?$/.exec(written);
  if (!m) {
    add(
      ['build', 'python_version'],
      `expected a version such as "3.12" or "3.12.4", got ${describeValue(written)}`,
    );
    return;
  }
  const minor = `${m[1]}.${m[2]}`;
  if (!minors.includes(minor)) {
    add(
      ['build', 'python_version'],
      `Python ${written} is not supported; expected one of ${minors.join(', ')}`,
      m[1] === '3' && Number(m[2]) < 8 ? `use "3.8" or newer` : `did you mean "${table.default}"?`,
    );
  }
}

/**
 * A YAML number loses its spelling (`3.10` is 3.1), so the source text is used when the value
 * was written unquoted. Exported for the loader, which stores the string form in Config.
 */
export function pythonVersionText(raw: string | number, locator: () => SourceLocator): string {
  if (typeof raw === 'string') return raw.trim();
  return locator().sourceText(['build', 'python_version']) ?? String(raw);
}

function requirementsHint(projectDir: string): string {
  const here = existsSync(projectDir)
    ? readdirSync(projectDir).filter((f) => /requirements.*\.txt$/.test(f))
    : [];
  return here.length > 0
    ? `files here: ${here.join(', ')}`
    : 'the path is relative to the folder that holds cog.yaml';
}

/** `predict: "predict.py:Predictor"`: the file must exist and define the name at top level. */
function checkTarget(ctx: SemanticContext, key: string, ref: string, add: Add): void {
  const m = /^(.+\.py):([A-Za-z_][A-Za-z0-9_]*)$/.exec(ref.trim());
  if (!m) {
    add([key], `expected "file.py:Name", got ${describeValue(ref)}`, `e.g. ${key}: "predict.py:Predictor"`);
    return;
  }
  const [, rel, name] = m as unknown as [string, string, string];
  const abs = isAbsolute(rel) ? rel : join(ctx.projectDir, rel);
  if (!existsSync(abs)) {
    add([key], `file not found: ${abs}`);
    return;
  }
  const defined = topLevelNames(readFileSync(abs, 'utf8'));
  if (!defined.has(name)) {
    const near = closest(name, [...defined]);
    const shown = relative(ctx.projectDir, abs) || rel;
    add(
      [key],
      `${shown} defines no top-level class or function "${name}"`,
      near
        ? `did you mean ${rel}:${near}?`
        : defined.size > 0
          ? `it defines: ${[...defined].slice(0, 8).join(', ')}`
          : undefined,
    );
  }
}

/**
 * Names bound at module level in a Python file, by a line scan (no Python needed): `class X`,
 * `def X`, `async def X`, `X = …`, `X: T = …`, and `from m import X [as Y]` / `import m as X`.
 * Indented lines are skipped, so methods and nested classes do not count.
 */
export function topLevelNames(source: string): Set<string> {
  const names = new Set<string>();
  for (const line of source.split(/\r?\n/)) {
    let m = /^(?:async\s+)?(?:class|def)\s+([A-Za-z_]\w*)/.exec(line);
    if (m) {
      names.add(m[1]!);
      continue;
    }
    m = /^([A-Za-z_]\w*)\s*(?::[^=]*)?=(?!=)/.exec(line);
    if (m) {
      names.add(m[1]!);
      continue;
    }
    const imp = /^from\s+\S+\s+import\s+\(?([^#]+)/.exec(line) ?? /^import\s+([^#]+)/.exec(line);
    if (imp) {
      for (const part of imp[1]!.replace(/[()\\]/g, '').split(',')) {
        const words = part.trim().split(/\s+/);
        const bound = words[1] === 'as' ? words[2] : words[0]?.split('.')[0];
        if (bound && /^[A-Za-z_]\w*$/.test(bound)) names.add(bound);
      }
    }
  }
  return names;
}

function checkEnvironment(env: unknown, add: Add): void {
  if (!Array.isArray(env)) return;
  const seen = new Map<string, number>();
  env.forEach((entry, i) => {
    if (typeof entry !== 'string') return;
    const eq = entry.indexOf('=');
    if (eq <= 0) return; // the schema's pattern reports the shape
    const name = entry.slice(0, eq);
    const prefix = deniedEnvPrefixes.find((p) => name.startsWith(p));
    if (deniedEnvNames.includes(name) || prefix) {
      add(
        ['environment', i],
        `${name} cannot be set here: ${prefix ? `${prefix}* variables are` : 'it is'} owned by the base image or the cogts runtime`,
        name === 'PYTHONPATH' ? 'put modules in the project folder (it is on sys.path) instead' : undefined,
      );
    }
    const first = seen.get(name);
    if (first !== undefined) add(['environment', i], `${name} is already set by environment[${first}]`);
    else seen.set(name, i);
  });
}

function checkWeightNames(weights: unknown, add: Add): void {
  if (!Array.isArray(weights)) return;
  const seen = new Set<string>();
  weights.forEach((w, i) => {
    if (!isRecord(w) || typeof w.name !== 'string') return;
    if (seen.has(w.name)) add(['weights', i, 'name'], `weight name "${w.name}" is used twice`);
    seen.add(w.name);
    if (typeof w.target === 'string' && !w.target.startsWith('/')) {
      add(['weights', i, 'target'], `expected an absolute path in the image, got ${describeValue(w.target)}`);
    }
  });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
