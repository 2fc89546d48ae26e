import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { load, YAML11_SCHEMA, YAMLException } from 'js-yaml';
import { CogtsError } from '../errors.js';
import { SourceLocator } from './locate.js';
import { ConfigError, type ConfigProblem } from './problems.js';
import { schemaProblems } from './schema-errors.js';
import { pythonVersionText, semanticProblems } from './semantics.js';
import type { Config, RunCommand, WeightConfig } from './types.js';

export { ConfigError, type ConfigProblem } from './problems.js';

/**
 * Reads, validates and normalises a cog.yaml. Every problem found (YAML syntax, schema, values,
 * missing files, unresolvable predictor) is collected and thrown together as one ConfigError
 * (code E_CONFIG, `.problems` for tools); each names file:line:column, the field, what was
 * expected, and a suggested fix when one is obvious.
 */
export async function loadConfig(file: string): Promise<Config> {
  const abs = resolve(file);
  const shown = displayPath(abs);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a folder' : String(err);
    const hint =
      code === 'ENOENT'
        ? 'run `cogts init` to create one, or point at it with -f/--file'
        : code === 'EISDIR'
          ? `pass the cog.yaml inside it: -f ${join(file, 'cog.yaml')}`
          : undefined;
    throw new CogtsError('E_CONFIG', `cannot read ${shown}: ${why}`, { hint, cause: err });
  }
  return parseConfig(text, abs, shown);
}

/**
 * The pure-ish core of loadConfig for text already in memory (it still checks the files the
 * config names). `shown` is how the file is named in messages.
 */
export function parseConfig(text: string, abs: string, shown = displayPath(abs)): Config {
  let doc: unknown = {};
  // Only comments or blank lines: Cog builds that with defaults; js-yaml 5 calls it an error.
  const blank = text.split(/\r?\n/).every((l) => /^\s*(#.*)?$/.test(l));
  if (!blank) {
    try {
      // YAML 1.1 booleans (`gpu: yes`) as Cog's Go YAML decoder accepts them for typed fields.
      doc = load(text, { filename: shown, schema: YAML11_SCHEMA });
    } catch (err) {
      if (err instanceof YAMLException) {
        const mark = err.mark;
        throw new ConfigError(
          shown,
          [
            {
              file: shown,
              line: (mark?.line ?? 0) + 1,
              column: (mark?.column ?? 0) + 1,
              field: '',
              message: `YAML syntax error: ${err.reason}`,
              suggestion: syntaxHint(err.reason, text),
            },
          ],
          { cause: err },
        );
      }
      throw err;
    }
  }
  if (doc === undefined || doc === null) doc = {};
  let locator: SourceLocator | undefined;
  const locate = () => {
    locator ??= new SourceLocator(text);
    return locator;
  };
  if (typeof doc !== 'object' || Array.isArray(doc)) {
    throw new ConfigError(shown, [
      {
        file: shown,
        line: 1,
        column: 1,
        field: '',
        message: `expected a mapping of keys (build:, predict: …), got ${Array.isArray(doc) ? 'a list' : typeof doc}`,
      },
    ]);
  }
  const record = doc as Record<string, unknown>;
  const projectDir = dirname(abs);
  const problems: ConfigProblem[] = [
    ...schemaProblems(record, shown, locate),
    ...semanticProblems({ doc: record, file: shown, projectDir, locator: locate }),
  ];
  if (problems.length > 0) {
    problems.sort((a, b) => a.line - b.line || a.column - b.column);
    throw new ConfigError(shown, problems);
  }
  return normalise(record, abs, projectDir, locate);
}

function normalise(
  doc: Record<string, unknown>,
  file: string,
  projectDir: string,
  locate: () => SourceLocator,
): Config {
  const b = (doc.build ?? {}) as Record<string, unknown>;
  const strings = (v: unknown) => (Array.isArray(v) ? (v as string[]) : []);
  const run: RunCommand[] = strings(b.run).map((r: string | RunCommand) =>
    typeof r === 'string' ? { command: r } : r,
  );
  const config: Config = {
    file,
    projectDir,
    build: {
      gpu: b.gpu === true,
      pythonPackages: strings(b.python_packages),
      systemPackages: strings(b.system_packages),
      run,
      preInstall: strings(b.pre_install),
    },
    environment: strings(doc.environment).map((e) => {
      const eq = e.indexOf('=');
      return [e.slice(0, eq), e.slice(eq + 1)] as [string, string];
    }),
    raw: doc,
  };
  if (b.python_version !== undefined) {
    config.build.pythonVersion = pythonVersionText(b.python_version as string | number, locate);
    // `python_version: 3.10` parses as the number 3.1; the label must carry what the user meant.
    b.python_version = config.build.pythonVersion;
  }
  if (typeof b.python_requirements === 'string') config.build.pythonRequirements = b.python_requirements;
  if (typeof b.cuda === 'string') config.build.cuda = b.cuda;
  if (typeof b.cudnn === 'string') config.build.cudnn = b.cudnn;
  if (typeof b.sdk_version === 'string') config.build.sdkVersion = b.sdk_version;
  const predict = (doc.run ?? doc.predict) as string | undefined;
  if (predict !== undefined) config.predict = predict;
  if (typeof doc.train === 'string') config.train = doc.train;
  if (typeof doc.image === 'string') config.image = doc.image;
  if (typeof doc.model === 'string') config.model = doc.model;
  const c = doc.concurrency as { max: number; default_target?: number } | undefined;
  if (c)
    config.concurrency =
      c.default_target === undefined ? { max: c.max } : { max: c.max, defaultTarget: c.default_target };
  if (Array.isArray(doc.weights)) {
    config.weights = (doc.weights as Record<string, unknown>[]).map((w) => ({
      name: w.name as string,
      target: w.target as string,
      source: (Array.isArray(w.source) ? w.source : [w.source]) as WeightConfig['source'],
    }));
  }
  return config;
}

/** Relative to the working directory when the file is inside it (shorter, clickable in terminals). */
function displayPath(abs: string): string {
  const rel = relative(process.cwd(), abs);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : abs;
}

function syntaxHint(reason: string, text: string): string | undefined {
  if (/duplicate|duplicated mapping key/i.test(reason)) return 'each key may appear once per mapping';
  if (/\t/.test(text) && /indent|tab/i.test(reason)) return 'YAML indentation must use spaces, not tabs';
  if (/indent/i.test(reason)) return 'check the indentation, and that every quote is closed';
  return undefined;
}
