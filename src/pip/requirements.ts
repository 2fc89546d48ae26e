/**
 * requirements.txt in pip's syntax: includes (-r/-c), index options, hashes, direct wheel URLs and
 * local wheel files. Every error names file:line. Reading is separated from parsing so that config
 * `python_packages` lists can go through the same code (as lines of a virtual file).
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CogtsError } from '../errors.js';
import { normalizeName, parseWheelName } from './names.js';
import { Pep508Error, parseRequirement, type Requirement } from './pep508.js';

export interface SourcedRequirement extends Requirement {
  /** "requirements.txt:3" */
  source: string;
  /** Allowed sha256 digests (hex) from --hash; empty = none given. */
  hashes: string[];
}

export interface RequirementSet {
  requirements: SourcedRequirement[];
  /** From -c files: limit versions, never add packages. */
  constraints: SourcedRequirement[];
  /** undefined = not set by the files (caller falls back to env/config/PyPI). */
  indexUrl?: string;
  extraIndexUrls: string[];
  /** URLs (http(s) or file://) of flat pages or folders of wheels. */
  findLinks: string[];
  pre: boolean;
  /** True when any requirement carries --hash: then every one must (pip's hash-checking mode). */
  requireHashes: boolean;
  noIndex: boolean;
}

export function emptyRequirementSet(): RequirementSet {
  return {
    requirements: [],
    constraints: [],
    extraIndexUrls: [],
    findLinks: [],
    pre: false,
    requireHashes: false,
    noIndex: false,
  };
}

/** Read a requirements file (and everything it includes) into `into`. */
export async function readRequirementsFile(
  file: string,
  into: RequirementSet = emptyRequirementSet(),
  asConstraints = false,
  seen = new Set<string>(),
): Promise<RequirementSet> {
  const abs = resolve(file);
  if (seen.has(abs)) throw new CogtsError('E_PIP_REQUIREMENT', `${file}: included twice (include cycle)`);
  seen.add(abs);
  let text: string;
  try {
    text = await readFile(abs, 'utf8');
  } catch (e) {
    throw new CogtsError('E_PIP_REQUIREMENT', `cannot read requirements file ${file}`, {
      cause: e,
      hint: 'check python_requirements in cog.yaml',
    });
  }
  await parseRequirementsText(text, { file, baseDir: dirname(abs), into, asConstraints, seen });
  return into;
}

interface ParseCtx {
  file: string;
  baseDir: string;
  into: RequirementSet;
  asConstraints?: boolean;
  seen?: Set<string>;
}

/** Logical lines: `\` continuations joined, comments (` #…` or leading `#`) removed, with their first line number. */
function logicalLines(text: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let buf = '';
  let start = 0;
  text.split(/\r?\n/).forEach((raw, i) => {
    if (!buf) start = i + 1;
    if (/(^|[^\\])\\$/.test(raw)) {
      buf += `${raw.slice(0, -1)} `;
      return;
    }
    buf += raw;
    const stripped = buf.replace(/(^|\s)#.*$/, '').trim();
    if (stripped) out.push({ line: start, text: stripped });
    buf = '';
  });
  if (buf.trim()) out.push({ line: start, text: buf.replace(/(^|\s)#.*$/, '').trim() });
  return out;
}

const IGNORED_FLAGS = new Set([
  '--prefer-binary',
  '--trusted-host',
  '--use-feature',
  '--progress-bar',
  '--no-cache-dir',
  '--only-binary',
  '--no-build-isolation',
]);

export async function parseRequirementsText(text: string, ctx: ParseCtx): Promise<void> {
  const { into } = ctx;
  for (const { line, text: raw } of logicalLines(text)) {
    // pip expands ${VAR} (POSIX names only) so tokens stay out of the file: --index-url https://${TOKEN}@host/simple
    const l = raw.replace(/\$\{([A-Z0-9_]+)\}/g, (m, v: string) => process.env[v] ?? m);
    const where = `${ctx.file}:${line}`;
    const fail = (msg: string, hint?: string): never => {
      throw new CogtsError('E_PIP_REQUIREMENT', `${where}: ${msg}`, { hint });
    };
    if (l.startsWith('-')) {
      const om = /^(--?[A-Za-z-]+)(?:[=\s]\s*(.*))?$/.exec(l);
      if (!om) fail(`cannot parse option "${l}"`);
      const opt = (om as RegExpExecArray)[1] as string;
      const arg = ((om as RegExpExecArray)[2] ?? '').trim();
      const need = () => arg || fail(`${opt} needs a value`);
      switch (opt) {
        case '-r':
        case '--requirement':
        case '-c':
        case '--constraint': {
          const target = need();
          if (/^https?:/.test(target))
            fail(`remote includes are not supported: ${target}`, 'download the file next to cog.yaml');
          const path = isAbsolute(target) ? target : resolve(ctx.baseDir, target);
          const isC = opt === '-c' || opt === '--constraint';
          try {
            await readRequirementsFile(path, into, ctx.asConstraints || isC, ctx.seen);
          } catch (e) {
            if (e instanceof CogtsError && e.message.startsWith('cannot read'))
              fail(`cannot read included file ${target}`);
            throw e;
          }
          break;
        }
        case '-i':
        case '--index-url':
          into.indexUrl = need();
          break;
        case '--extra-index-url':
          into.extraIndexUrls.push(need());
          break;
        case '-f':
        case '--find-links': {
          const v = need();
          into.findLinks.push(/^[a-z+]+:\/\//.test(v) ? v : pathToFileURL(resolve(ctx.baseDir, v)).href);
          break;
        }
        case '--no-index':
          into.noIndex = true;
          break;
        case '--pre':
          into.pre = true;
          break;
        case '--require-hashes':
          into.requireHashes = true;
          break;
        case '--no-binary':
          if (arg !== ':none:')
            fail(
              `--no-binary ${arg}: cogts installs wheels only and never builds from source`,
              'remove --no-binary or publish a wheel',
            );
          break;
        case '-e':
        case '--editable':
          fail(
            'editable installs (-e) cannot go into an image layer',
            'use a wheel file or a pinned version',
          );
          break;
        default:
          if (IGNORED_FLAGS.has(opt)) break;
          fail(`unsupported option ${opt}`);
      }
      continue;
    }
    // Per-requirement options: --hash=sha256:… (possibly several).
    const hashes: string[] = [];
    let reqText = l.replace(/\s--hash[=\s]\s*(\S+)/g, (_, h: string) => {
      const hm = /^sha256:([0-9a-f]{64})$/i.exec(h);
      if (!hm) fail(`unsupported hash "${h}"`, 'use --hash=sha256:<64 hex digits>');
      hashes.push((hm as RegExpExecArray)[1]?.toLowerCase() as string);
      return '';
    });
    if (/\s--\S+/.test(reqText)) fail(`unsupported per-requirement option in "${l}"`);
    reqText = reqText.trim();
    let req: Requirement;
    try {
      req = parseLineRequirement(reqText, ctx.baseDir);
    } catch (e) {
      if (e instanceof Pep508Error) fail(`${e.message} (in "${reqText}")`);
      throw e;
    }
    if (hashes.length) into.requireHashes = true;
    const sr: SourcedRequirement = { ...req, source: where, hashes };
    (ctx.asConstraints ? into.constraints : into.requirements).push(sr);
  }
}

/** A bare wheel path/URL ("./wheels/x-1.0-py3-none-any.whl") becomes `x @ <url>`. */
function parseLineRequirement(text: string, baseDir: string): Requirement {
  const markerIdx = text.search(/\s;/);
  const head = markerIdx >= 0 ? text.slice(0, markerIdx) : text;
  const tail = markerIdx >= 0 ? text.slice(markerIdx) : '';
  const isUrl = /^[a-z+]+:\/\//.test(head);
  const isPath =
    !head.includes('@') && (head.startsWith('.') || head.startsWith('/') || head.endsWith('.whl'));
  if (isUrl || isPath) {
    const url = isUrl ? head : pathToFileURL(resolve(baseDir, head)).href;
    const base = decodeURIComponent(new URL(url).pathname.split('/').pop() ?? '');
    const w = parseWheelName(base);
    if (!w)
      throw new Pep508Error(`"${head}" is not a wheel (.whl); cogts never builds sdists or source trees`);
    return parseRequirement(`${w.name} @ ${url}${tail}`);
  }
  const req = parseRequirement(text);
  if (req.url?.startsWith('file:') === false && !/^[a-z+]+:\/\//.test(req.url)) {
    throw new Pep508Error(`direct reference "${req.url}" must be a URL`);
  }
  if (req.url && !/\.whl(#|$)/.test(req.url)) throw new Pep508Error(`"${req.url}" is not a wheel URL (.whl)`);
  return req;
}

/** Config `python_packages` entries are requirement lines of a virtual file named after the config. */
export async function parsePackageList(
  lines: string[],
  source: string,
  baseDir: string,
  into = emptyRequirementSet(),
): Promise<RequirementSet> {
  await parseRequirementsText(lines.join('\n'), { file: source, baseDir, into });
  return into;
}

export function requirementKey(r: SourcedRequirement): string {
  return normalizeName(r.name);
}
